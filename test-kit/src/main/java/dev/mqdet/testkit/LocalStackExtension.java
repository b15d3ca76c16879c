package dev.mqdet.testkit;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that hands a test the JVM-wide {@link LocalStack} (a real Kafka broker and a real Schema
 * Registry), started once and shared by every test class of the run, so the suite pays the start-up once.
 *
 * <pre>{@code
 * @ExtendWith(LocalStackExtension.class)
 * class MyTest {
 *     @Test void roundTrip(LocalStack stack) { ... stack.bootstrapServers() ... }
 * }
 * }</pre>
 */
public final class LocalStackExtension implements ParameterResolver {

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        // Registered once in the root store: JUnit stops the stack when the whole run ends, inside the test JVM's
        // normal life, rather than leaving it to a shutdown hook racing the test runner's own exit.
        context.getRoot().getStore(ExtensionContext.Namespace.create(LocalStackExtension.class))
                .getOrComputeIfAbsent("shared-local-stack", key -> (AutoCloseable) LocalStack::closeShared, AutoCloseable.class);
        return LocalStack.shared();
    }
}
