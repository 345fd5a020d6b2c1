// QuickTimer: a plain timing loop over the step workload, for profiling while developing
// (the figures to report come from the JMH benchmarks).
package org.bnnas.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.Backends;

public final class QuickTimer {
    /** Time spent per backend method, when run with -Dprofile=true. */
    static final Map<String, long[]> PROFILE = new TreeMap<>();

    static void installProfiler() {
        Backend cpu = Backends.cpu();
        Backends.use((Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, m, a) -> {
            long t = System.nanoTime();
            try {
                return m.invoke(cpu, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            } finally {
                String key = m.getName();
                if (a != null && a.length == 4 && a[3] instanceof org.bnnas.engine.backend.ConvSpec spec) {
                    key += spec.isPointwise() ? " 1x1" : spec.groups() > 1 ? " dw" + spec.kernel() + "s" + spec.stride() : " k" + spec.kernel();
                }
                long[] acc = PROFILE.computeIfAbsent(key, k -> new long[2]);
                acc[0] += System.nanoTime() - t;
                acc[1]++;
            }
        }));
    }

    public static void main(String[] args) {
        boolean profile = Boolean.getBoolean("profile");
        if (profile) installProfiler();
        String space = args.length > 0 ? args[0] : "bnnas-small";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        String only = System.getProperty("modes", "FULL,BN_ONLY,EVAL,STANDALONE");
        for (SupernetWorkload.Mode mode : SupernetWorkload.Mode.values()) {
            if (!java.util.Arrays.asList(only.split(",")).contains(mode.name())) continue;
            try (SupernetWorkload w = new SupernetWorkload(space, batch, mode)) {
                for (int i = 0; i < 8; i++) w.step();
                PROFILE.clear();
                double[] ms = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long t = System.nanoTime();
                    w.step();
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                Arrays.sort(ms);
                System.out.printf("%-8s median %.1f ms  min %.1f ms%n", mode, ms[steps / 2], ms[0]);
                if (profile) {
                    PROFILE.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0])).forEach(e ->
                            System.out.printf("    %-24s %7.2f ms/step  %5.1f calls/step%n", e.getKey(), e.getValue()[0] / 1e6 / steps, e.getValue()[1] / (double) steps));
                }
            }
        }
    }
}
