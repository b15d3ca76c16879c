package dev.mqdet.streams.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How busy the machine's CPUs were between {@link #start()} and {@link #fraction()}, from {@code /proc/stat}
 * (all processes, all cores; 1.0 = every core busy the whole time). It tells whether a design left cores idle
 * (waiting on I/O or on one thread) or was short of CPU. Negative where {@code /proc/stat} cannot be read.
 */
final class CpuBusy {
    private static final Path STAT = Path.of("/proc/stat");
    private final long[] start;

    private CpuBusy(long[] start) {
        this.start = start;
    }

    static CpuBusy start() {
        return new CpuBusy(read());
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
