// Parallel: the CPU backend's fixed thread team and its parallel-for over work items.
package org.bnnas.engine.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A team of worker threads plus the calling thread that split a loop over work items.
 * Kernels decide their work items from the shapes alone, never from the thread count, and every
 * reduction keeps one partial result per item and combines them in item order: results are
 * bit-identical whatever {@link #setThreads} says.
 */
public final class Parallel {
    private static volatile Team team = new Team(defaultThreads());

    private Parallel() {}

    private static int defaultThreads() {
        String env = System.getProperty("bnnas.threads", System.getenv("BNNAS_THREADS"));
        if (env != null && !env.isBlank()) return Math.max(1, Integer.parseInt(env.trim()));
        return Runtime.getRuntime().availableProcessors();
    }

    public static int threads() {
        return team.size;
    }

    /** Sets the number of threads (the caller included) that kernels use. */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads: must be at least 1, got " + n);
        if (n == team.size) return;
        Team old = team;
        team = new Team(n);
        old.shutdown();
    }

    /** Runs body(i) for i in [0, items), spread over the team; returns when all are done. */
    public static void forEach(int items, IntConsumer body) {
        if (items <= 0) return;
        Team t = team;
        if (items == 1 || t.size == 1 || Thread.currentThread() instanceof Worker) {
            for (int i = 0; i < items; i++) body.accept(i);
            return;
        }
        t.run(items, body);
    }

    private static final class Worker extends Thread {
        Worker(Runnable r, String name) {
            super(r, name);
            setDaemon(true);
        }
    }

    /** Workers wait for a job, claim items from a shared counter, and report when they finish. */
    private static final class Team {
        final int size;
        final Worker[] workers;
        volatile Job job;
        volatile boolean stopped;

        Team(int size) {
            this.size = size;
            this.workers = new Worker[size - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this::loop, "bnnas-cpu-" + (i + 1));
                workers[i].start();
            }
        }

        synchronized void run(int items, IntConsumer body) {
            if (stopped) { // replaced by setThreads while this caller was on its way in
                for (int i = 0; i < items; i++) body.accept(i);
                return;
            }
            Job j = new Job(items, body, workers.length);
            job = j;
            for (Worker w : workers) LockSupport.unpark(w);
            j.work();
            while (j.pendingWorkers.get() > 0) Thread.onSpinWait();
            job = null;
            if (j.failure != null) throw j.failure instanceof RuntimeException re ? re : new RuntimeException(j.failure);
        }

        void loop() {
            Job last = null;
            while (!stopped) {
                Job j = job;
                if (j == null || j == last) {
                    // Spin about a millisecond (kernels follow each other closely), then sleep until
                    // run() unparks us: an idle team must not take the cores from anyone else.
                    for (int s = 0; s < 20000 && (job == null || job == last) && !stopped; s++) Thread.onSpinWait();
                    if (job == null || job == last) LockSupport.park(this);
                    continue;
                }
                last = j;
                j.work();
                j.pendingWorkers.decrementAndGet();
            }
        }

        /** Waits for a job in progress (run holds the same lock), then lets the workers end. */
        synchronized void shutdown() {
            stopped = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Job {
        final int items;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger pendingWorkers;
        volatile Throwable failure;

        Job(int items, IntConsumer body, int workers) {
            this.items = items;
            this.body = body;
            this.pendingWorkers = new AtomicInteger(workers);
        }

        void work() {
            int i;
            while ((i = next.getAndIncrement()) < items) {
                try {
                    body.accept(i);
                } catch (Throwable e) {
                    failure = e;
                }
            }
        }
    }
}
