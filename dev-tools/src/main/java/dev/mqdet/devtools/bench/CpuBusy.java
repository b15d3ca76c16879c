package dev.mqdet.devtools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * How busy the machine's CPUs were between {@link #start()} and {@link #fraction()}, from {@code /proc/stat}
 * (all processes, all cores; 1.0 = every core busy the whole time). It tells whether a design left cores idle
 * (waiting on I/O or on one thread) or was short of CPU. Negative where {@code /proc/stat} cannot be read.
 * {@link #jitShare()} is the part of the machine this JVM's JIT compilers took meanwhile: on few cores, code that
 * is still being compiled (the in-process broker's and clients', for minutes after start) takes it from inference.
 */
final class CpuBusy {
    private static final Path STAT = Path.of("/proc/stat");
    /** Linux's USER_HZ, the unit of /proc's CPU times, on every architecture Java runs on. */
    private static final double JIFFIES_PER_SECOND = 100;
    private static final Path THREADS = Path.of("/proc/self/task");
    private final long[] start;
    private final long startNanos = System.nanoTime();
    private final long startJit = jitJiffies();

    private CpuBusy(long[] start) {
        this.start = start;
    }

    static CpuBusy start() {
        return new CpuBusy(read());
    }

    /** CPU time of the JIT compiler threads over wall time times cores since {@link #start()}; negative where unknown. */
    double jitShare() {
        long jit = jitJiffies();
        double wallSeconds = (System.nanoTime() - startNanos) / 1e9;
        if (jit < 0 || startJit < 0 || wallSeconds <= 0) {
            return -1;
        }
        return (jit - startJit) / (JIFFIES_PER_SECOND * wallSeconds * Runtime.getRuntime().availableProcessors());
    }

    /** User + system jiffies of this JVM's C1 and C2 compiler threads (their names in /proc), or -1. */
    private static long jitJiffies() {
        try (Stream<Path> threads = Files.list(THREADS)) {
            long total = 0;
            for (Path thread : threads.toList()) {
                try {
                    String name = Files.readString(thread.resolve("comm")); // "C2 CompilerThre" (cut to 15 chars)
                    if (!name.startsWith("C1 Compiler") && !name.startsWith("C2 Compiler")) {
                        continue;
                    }
                    String stat = Files.readString(thread.resolve("stat"));
                    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    total += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
                } catch (IOException | RuntimeException e) {
                    // the thread ended meanwhile: its time is lost, a small undercount
                }
            }
            return total;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    double fraction() {
        long[] now = read();
        if (start == null || now == null || now[0] == start[0]) {
            return -1;
        }
        double total = now[0] - start[0];
        return 1.0 - (now[1] - start[1]) / total;
    }

    /** {total jiffies, idle + iowait jiffies} of the "cpu" line, or null. */
    private static long[] read() {
        try {
            String[] fields = Files.readAllLines(STAT).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i <= Math.min(8, fields.length - 1); i++) { // user..steal; guest time is already in user
                total += Long.parseLong(fields[i]);
            }
            return new long[] {total, Long.parseLong(fields[4]) + Long.parseLong(fields[5])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
