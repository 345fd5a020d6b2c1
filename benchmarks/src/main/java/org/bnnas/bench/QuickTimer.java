// QuickTimer: a plain timing loop over the step workload, for profiling while developing
// (the figures to report come from the JMH benchmarks).
package org.bnnas.bench;

import java.util.Arrays;

public final class QuickTimer {
    public static void main(String[] args) {
        String space = args.length > 0 ? args[0] : "bnnas-small";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        for (SupernetWorkload.Mode mode : SupernetWorkload.Mode.values()) {
            try (SupernetWorkload w = new SupernetWorkload(space, batch, mode)) {
                for (int i = 0; i < 8; i++) w.step();
                double[] ms = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long t = System.nanoTime();
                    w.step();
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                Arrays.sort(ms);
                System.out.printf("%-8s median %.1f ms  min %.1f ms%n", mode, ms[steps / 2], ms[0]);
            }
        }
    }
}
