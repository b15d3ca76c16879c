package dev.mqdet.registry.health;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The state of the service's background readers, for {@code /health}: each reader reports itself working or
 * failing with a reason. A failing reader whose data the API serves as current (the exemplar-queries follower) makes
 * the service {@code unhealthy}; one that only feeds a best-effort view (the live feed) makes it {@code degraded}.
 * A reader that recovers reports itself working again, and the status goes back to {@code up}.
 */
public final class Health {

    /** What a failure of a component means for the service. */
    public enum Impact { DEGRADED, UNHEALTHY }

    /** One component's state as reported. */
    public record State(boolean ok, String reason, long sinceMs) {}

    /** The service's state: {@code up}, {@code degraded} or {@code unhealthy}, and each component's. */
    public record Report(String status, Map<String, State> components) {
        public boolean unhealthy() {
            return status.equals("unhealthy");
        }
    }

    /** A component's handle to report through. */
    public final class Component {
        private final String name;

        private Component(String name) {
            this.name = name;
        }

        public void ok() {
            synchronized (Health.this) {
                if (!states.get(name).ok()) {
                    states.put(name, new State(true, null, System.currentTimeMillis()));
                }
            }
        }

        public void failing(String reason) {
            synchronized (Health.this) {
                State old = states.get(name);
                states.put(name, new State(false, reason, old.ok() ? System.currentTimeMillis() : old.sinceMs()));
            }
        }
    }

    private final Map<String, State> states = new LinkedHashMap<>();
    private final Map<String, Impact> impacts = new LinkedHashMap<>();

    public synchronized Component register(String name, Impact impact) {
        states.put(name, new State(true, null, System.currentTimeMillis()));
        impacts.put(name, impact);
        return new Component(name);
    }

    public synchronized Report report() {
        String status = "up";
        for (Map.Entry<String, State> e : states.entrySet()) {
            if (!e.getValue().ok()) {
                if (impacts.get(e.getKey()) == Impact.UNHEALTHY) {
                    status = "unhealthy";
                } else if (status.equals("up")) {
                    status = "degraded";
                }
            }
        }
        return new Report(status, Map.copyOf(states));
    }
}
