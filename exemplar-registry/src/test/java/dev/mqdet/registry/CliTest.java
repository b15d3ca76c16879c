package dev.mqdet.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mqdet.events.ExemplarQuery;
import dev.mqdet.registry.cli.RegistryCommand;
import dev.mqdet.testkit.LocalStack;
import dev.mqdet.testkit.LocalStackExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI against a running service: what scripts see (exit codes, stdout JSON, stderr problems) and what lands on the topic. */
@ExtendWith(LocalStackExtension.class)
class CliTest {

    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return RegistryHarness.JSON.readTree(out);
        }
    }

    private static Run run(RegistryHarness h, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--url=" + h.url());
        all.add("--token=" + RegistryHarness.TOKEN);
        return runRaw(all.toArray(String[]::new));
    }

    private static Run runRaw(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = RegistryCommand.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void scriptsManageQuerySetsThroughTheCli(LocalStack stack, @TempDir Path dir) throws Exception {
        Path a = Files.write(dir.resolve("a.jpg"), TestImages.jpeg(120, 90));
        Path b = Files.write(dir.resolve("b.png"), TestImages.png(64, 64));
        try (RegistryHarness h = new RegistryHarness(stack)) {
            Run add = run(h, "add", "--query-set", "S", "--category", "C", "--label", "devil's hole pupfish",
                    "--exemplar", a + ":10,20,110,80", "--exemplar", b + ":0,0,32,32");
            assertThat(add.code()).as(add.err()).isZero();
            assertThat(add.json().get("exemplars")).hasSize(2);

            Run again = run(h, "add", "--query-set", "S", "--category", "C", "--label", "other");
            assertThat(again.code()).isEqualTo(1);
            assertThat(again.err()).contains("412").contains("already exists");
            assertThat(run(h, "add", "--query-set", "S", "--category", "C", "--label", "pupfish", "--replace").code()).isZero();

            Run outside = run(h, "add-exemplar", "--query-set", "S", "--category", "C", "--exemplar", a + ":10,20,500,80");
            assertThat(outside.code()).isEqualTo(1);
            assertThat(outside.err()).contains("exemplars[0].box").contains("not inside the 120x90 image");
            Run missingFile = run(h, "add-exemplar", "--query-set", "S", "--category", "C", "--exemplar", dir.resolve("nope.jpg") + ":1,1,2,2");
            assertThat(missingFile.code()).isEqualTo(1);
            assertThat(missingFile.err()).contains("no such file");

            Run added = run(h, "add-exemplar", "--query-set", "S", "--category", "C", "--exemplar", b + ":5,5,60,60");
            assertThat(added.code()).as(added.err()).isZero();
            String exemplarId = added.json().at("/exemplars/0/exemplarId").asText();
            assertThat(run(h, "set-label", "--query-set", "S", "--category", "C", "--no-label").code()).isZero();
            Run removeLast = run(h, "remove-exemplar", "--query-set", "S", "--category", "C", "--exemplar-id", exemplarId);
            assertThat(removeLast.code()).as("last exemplar of a category without label").isEqualTo(1);
            assertThat(removeLast.err()).contains("409");
            assertThat(run(h, "set-label", "--query-set", "S", "--category", "C", "--label", "pupfish").code()).isZero();
            assertThat(run(h, "remove-exemplar", "--query-set", "S", "--category", "C", "--exemplar-id", exemplarId).code()).isZero();

            Run list = run(h, "list");
            assertThat(list.json().at("/querySets/0/querySetId").asText()).isEqualTo("S");
            assertThat(run(h, "rename", "--query-set", "S", "--to", "T").code()).isZero();
            Run get = run(h, "get", "--query-set", "T", "--category", "C");
            assertThat(get.json().get("label").asText()).isEqualTo("pupfish");
            assertThat(run(h, "delete-category", "--query-set", "T", "--category", "C").code()).isZero();
            assertThat(run(h, "get", "--query-set", "T").code()).isEqualTo(1);

            List<ConsumerRecord<String, ExemplarQuery>> records = h.records();
            assertThat(records).extracting(ConsumerRecord::key)
                    .containsExactly("S/C", "S/C", "S/C", "S/C", "S/C", "S/C", "T/C", "S/C", "T/C");
            ExemplarQuery first = records.get(0).value();
            assertThat(first.getLabel()).isEqualTo("devil's hole pupfish");
            assertThat(first.getUpdatedBy()).isEqualTo("registry-token/cli");
            assertThat(first.getExemplars()).extracting(e -> e.getImage().getMediaType()).containsExactly("image/jpeg", "image/png");
            assertThat(first.getExemplars().get(0).getBox().getX2()).isEqualTo(110f);
            assertThat(QuerySetApiTest.bytes(first.getExemplars().get(0).getImage().getData())).isEqualTo(Files.readAllBytes(a));
            assertThat(records.get(7).value()).isNull();
            assertThat(records.get(8).value()).isNull();

            Run noToken = runRaw("add", "--query-set", "S", "--category", "D", "--label", "x", "--url=" + h.url(), "--token=");
            assertThat(noToken.code()).isEqualTo(1);
            assertThat(noToken.err()).contains("401");
            assertThat(h.records()).hasSize(records.size());
        }
    }

    @Test
    void usageErrorsAndUnreachableService() {
        assertThat(runRaw("add", "--category", "C").code()).isEqualTo(2);
        Run down = runRaw("list", "--url=http://127.0.0.1:1");
        assertThat(down.code()).isEqualTo(1);
        assertThat(down.err()).contains("cannot reach the registry");
        Run help = runRaw("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("serve").contains("add-exemplar").contains("rename");
    }
}
