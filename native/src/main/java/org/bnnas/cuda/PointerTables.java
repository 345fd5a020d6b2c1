// PointerTables: small tables of device addresses (which tensors a multi-tensor kernel works on)
// sent to the GPU without making the host wait: staged in pinned host memory and copied
// asynchronously on the kernels' stream.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;

import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A ring of slots, each a pinned host buffer, a device buffer and an event recorded after its
 * copy. A slot is written again only once its previous copy has run (the event), which with
 * {@link #SLOTS} slots is several launches back, so in practice the host never waits here.
 */
final class PointerTables {
    private static final int SLOTS = 8;

    private final LongPointer[] host = new LongPointer[SLOTS];
    private final long[] device = new long[SLOTS];
    private final long[] capacity = new long[SLOTS]; // in longs
    private final CUevent_st[] copied = new CUevent_st[SLOTS];
    private final boolean[] pending = new boolean[SLOTS];
    private int next;

    /** Copies {@code table} to the GPU (asynchronously, on the default stream) and returns its device address. */
    long upload(long[] table) {
        int slot = next;
        next = (next + 1) % SLOTS;
        if (pending[slot]) Check.cuda(cudaEventSynchronize(copied[slot]), "cudaEventSynchronize (pointer table)");
        if (table.length > capacity[slot]) grow(slot, Math.max(table.length, 2 * capacity[slot]));
        host[slot].put(table, 0, table.length);
        Check.cuda(cudaMemcpyAsync(new Tensor.AddressPointer(device[slot]), host[slot], 8L * table.length, cudaMemcpyHostToDevice),
                "cudaMemcpyAsync (pointer table)");
        Check.cuda(cudaEventRecord(copied[slot]), "cudaEventRecord (pointer table)");
        pending[slot] = true;
        return device[slot];
    }

    private void grow(int slot, long longs) {
        if (host[slot] != null) {
            Check.cuda(cudaFreeHost(host[slot]), "cudaFreeHost");
            Check.cuda(cudaFree(new Tensor.AddressPointer(device[slot])), "cudaFree");
        } else {
            copied[slot] = new CUevent_st();
            Check.cuda(cudaEventCreate(copied[slot]), "cudaEventCreate");
        }
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            Check.cuda(cudaMallocHost(out, 8 * longs), "cudaMallocHost (pointer table)");
            host[slot] = new LongPointer(out.get(0));
            host[slot].capacity(longs);
            Check.cuda(cudaMalloc(out, 8 * longs), "cudaMalloc (pointer table)");
            device[slot] = out.get(0).address();
        }
        capacity[slot] = longs;
    }
}
