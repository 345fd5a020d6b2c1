// LibtorchWorkload: SupernetWorkload's steps done by libtorch 2.10 (JavaCPP's presets, in this
// JVM) on the official network exported as TorchScript, with our weights, input and labels; its
// eval logits are checked against our engine's on every path before anything is timed.
package org.bnnas.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Retrainer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.IntType;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.SGD;
import org.bytedeco.pytorch.SGDOptions;
import org.bytedeco.pytorch.SingletonTypePtr;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

/**
 * The same work as {@link SupernetWorkload}, which it is built from: the same eight paths in the
 * same order, the same input and labels, SGD with momentum 0.9 at lr 0.1 and label-smoothed (0.1)
 * cross-entropy; a BN-only step trains exactly the parameters our BN-only step trains (gamma and
 * beta of each op's last BN, requires_grad false elsewhere), a standalone step decays the weights
 * of rank above 1 by our retraining's 4e-5. The supernet is one TorchScript module whose
 * forward(x, arch) runs the path it is given, so every path shares one set of weights, as ours.
 *
 * <p>Before it is built our network gets random BN gammas and betas and BN statistics estimated on
 * the input (a fresh network's gammas of 1 and statistics of 0 and 1 blow the activations up until
 * every input gives the same logits, and a comparison would show nothing); its weights are then
 * copied by name into libtorch's module and the eval logits of both, on the input batch, are
 * compared on every path the steps take (the first path's network for standalone). A difference
 * above {@link #TOLERANCE} of the largest logit fails the construction.
 */
public final class LibtorchWorkload implements AutoCloseable {
    /** Largest allowed |libtorch - ours| of the eval logits, as a share of the largest |logit| of ours. */
    public static final double TOLERANCE = 1e-3;
    /** at::Reduction::Mean, which cross_entropy_loss takes as an integer. */
    private static final long REDUCTION_MEAN = 1;
    /** cross_entropy's default ignore_index: no label is ignored. */
    private static final long NO_IGNORED_LABEL = -100;

    /** How TorchScript runs the graph: its default profiling executor, or the legacy one that specialises on argument shapes and types. */
    public enum Executor {
        PROFILING, LEGACY;

        public static Executor of(String s) {
            return switch (s) {
                case "profiling" -> PROFILING;
                case "legacy" -> LEGACY;
                default -> throw new IllegalArgumentException("executor: profiling or legacy, got " + s);
            };
        }
    }

    /** What the eval forward runs: the loaded module, torch::jit::freeze of it, or optimize_for_inference of it. */
    public enum Inference {
        NONE, FREEZE, OPTIMIZE;

        public static Inference of(String s) {
            return switch (s) {
                case "none" -> NONE;
                case "freeze" -> FREEZE;
                case "optimize" -> OPTIMIZE;
                default -> throw new IllegalArgumentException("inference: none, freeze or optimize, got " + s);
            };
        }
    }

    /**
     * libtorch's settings. threads: torch::set_num_threads (0: every core, as our engine runs);
     * optimize: torch::jit::setGraphExecutorOptimize; executor: profiling or legacy; channelsLast:
     * 4-d weights and the input in channels-last memory format; inference (eval only): freeze or
     * optimize_for_inference; inferenceMode (eval only): c10::InferenceMode instead of a no-grad guard.
     */
    public record Settings(int threads, boolean optimize, Executor executor, boolean channelsLast, Inference inference, boolean inferenceMode) {
        /** libtorch as it comes: every core, the profiling executor optimising, contiguous tensors, the module as loaded, no-grad. */
        public static Settings defaults() {
            return new Settings(0, true, Executor.PROFILING, false, Inference.NONE, false);
        }

        public Settings with(Inference i) {
            return new Settings(threads, optimize, executor, channelsLast, i, inferenceMode);
        }

        public Settings withChannelsLast(boolean on) {
            return new Settings(threads, optimize, executor, on, inference, inferenceMode);
        }

        public Settings withInferenceMode(boolean on) {
            return new Settings(threads, optimize, executor, channelsLast, inference, on);
        }

        public int threadCount() {
            return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        }
    }

    private final SupernetWorkload.Mode mode;
    private final Settings settings;
    private final JitModule module;
    private final Tensor input, target;
    private final IValue inputValue;
    private final IValue[] paths;
    private final SGD sgd;
    private final double[] checkDiffs;
    private int next;

    /**
     * libtorch's twin of {@code ours}, whose network's BN gammas, betas and statistics this first
     * sets (see the class comment), from the files {@link TorchScriptExport} wrote into {@code exportDir}.
     */
    public LibtorchWorkload(SupernetWorkload ours, Path exportDir, Settings settings) {
        this.mode = ours.mode();
        this.settings = settings;
        if (mode != SupernetWorkload.Mode.EVAL && (settings.inference() != Inference.NONE || settings.inferenceMode())) {
            throw new IllegalArgumentException("libtorch: inference=" + settings.inference().name().toLowerCase(Locale.ROOT)
                    + " and inferenceMode=" + settings.inferenceMode() + " apply to eval only, not to " + mode.key);
        }
        loadLibtorch();
        // Process-wide switches, set before the first module runs: the executor is chosen when a
        // method first runs, and the optimize flag is per thread (JMH sets up on the thread it times).
        torch.set_num_threads(settings.threadCount());
        // getExecutorMode picks the profiling executor over the legacy one (Python's
        // _jit_set_profiling_executor); getProfilingMode off would only make the profiling
        // executor skip its optimisations, which is what optimize=false does already.
        torch.getExecutorMode().put(settings.executor() == Executor.PROFILING);
        torch.getProfilingMode().put(true);
        torch.setGraphExecutorOptimize(settings.optimize());

        Module net = ours.net();
        giveBnsStatistics(ours);
        Map<String, TensorData> state = net.stateDict();
        boolean standalone = mode == SupernetWorkload.Mode.STANDALONE;
        Path file = standalone ? TorchScriptExport.standalone(exportDir, spaceName(net)) : TorchScriptExport.supernet(exportDir, spaceName(net));
        if (!file.toFile().isFile()) throw new IllegalStateException("libtorch: no " + file + " (benchmarks/pytorch_peer.py --export-torchscript DIR writes it)");

        org.bnnas.engine.tensor.Tensor x = ours.input();
        long[] shape = new long[x.rank()];
        for (int i = 0; i < shape.length; i++) shape[i] = x.dim(i);
        Tensor in = torch.empty(shape);
        in.data_ptr_float().put(x.toArray());
        input = settings.channelsLast() ? in.contiguous(torch.MemoryFormat.ChannelsLast) : in;
        if (input != in) in.close();
        inputValue = new IValue(input);
        int[] labels = ours.labels();
        long[] longLabels = new long[labels.length];
        for (int i = 0; i < labels.length; i++) longLabels[i] = labels[i];
        target = torch.zeros(new long[] {labels.length}, new TensorOptions(torch.ScalarType.Long));
        target.data_ptr_long().put(longLabels);

        List<int[]> archs = standalone ? List.of() : SupernetWorkload.benchArchs();
        paths = new IValue[archs.size()];
        for (int i = 0; i < paths.length; i++) paths[i] = pathValue(archs.get(i));

        if (mode == SupernetWorkload.Mode.EVAL) {
            // The timed module itself is checked: its first runs are eval forwards, as every later one.
            JitModule loaded = load(file, state);
            loaded.eval();
            module = switch (settings.inference()) {
                case NONE -> loaded;
                case FREEZE -> torch.freeze(loaded);
                case OPTIMIZE -> torch.optimize_for_inference(loaded);
            };
            if (module != loaded) loaded.close(); // the frozen module holds what it needs
            checkDiffs = check(ours, module, archs);
            sgd = null;
        } else {
            // Checked on a twin filled by the same code, so that the timed module's graph executor
            // first profiles training steps, as the Python peer's fresh module does.
            try (JitModule twin = load(file, state)) {
                twin.eval();
                checkDiffs = check(ours, twin, archs);
            }
            module = load(file, state);
            module.train();
            sgd = optimizer(net, Retrainer.Config.defaults(1, (int) shape[0], 0).weightDecay());
        }
    }

    /** One step on the next path; returns the loss (training) or the first logit (eval). */
    public float step() {
        try (PointerScope scope = new PointerScope()) {
            IValueVector args = paths.length == 0 ? new IValueVector(inputValue) : new IValueVector(inputValue, paths[next++ % paths.length]);
            if (mode == SupernetWorkload.Mode.EVAL) {
                try (Pointer guard = evalGuard()) {
                    return module.forward(args).toTensor().data_ptr_float().get(0);
                }
            }
            Tensor logits = module.forward(args).toTensor();
            Tensor loss = torch.cross_entropy_loss(logits, target, new TensorOptional(), REDUCTION_MEAN, NO_IGNORED_LABEL, 0.1);
            loss.backward();
            sgd.step();
            sgd.zero_grad(true);
            return loss.item_float();
        }
    }

    /**
     * For tests: the gradient of every trainable parameter, by name, after a forward and backward
     * pass on bench path {@code path} (the standalone network ignores it), without an update.
     * Gradients are cleared before and after.
     */
    Map<String, float[]> gradients(int path) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (PointerScope scope = new PointerScope()) {
            sgd.zero_grad(true);
            IValueVector args = paths.length == 0 ? new IValueVector(inputValue) : new IValueVector(inputValue, paths[path]);
            Tensor logits = module.forward(args).toTensor();
            torch.cross_entropy_loss(logits, target, new TensorOptional(), REDUCTION_MEAN, NO_IGNORED_LABEL, 0.1).backward();
            named_parameter_list params = module.named_parameters(true);
            for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
                NamedTensor named = it.access(); // held by the scope, so the references into it stay valid
                Tensor g = named.value().grad();
                if (!g.defined()) continue;
                Tensor c = g.contiguous();
                float[] v = new float[(int) c.numel()];
                c.data_ptr_float().get(v);
                out.put(named.name().getString(), v);
            }
            sgd.zero_grad(true);
        }
        return out;
    }

    /** |libtorch - ours| / max |ours| of the eval logits on each checked path, as measured when this was built. */
    public double[] checkDiffs() {
        return checkDiffs.clone();
    }

    public Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        if (sgd != null) sgd.close();
        module.close();
        for (IValue p : paths) p.close();
        inputValue.close();
        input.close();
        target.close();
    }

    // ---- setting up ---------------------------------------------------------------------------

    private static boolean loaded;

    /**
     * Loads libtorch. JavaCPP extracts each library from the jar only as it loads it, and loads
     * libtorch.so (which needs libtorch_cpu.so, found through $ORIGIN) before libtorch_cpu.so: in a
     * fresh cache the dynamic linker then finds another libtorch_cpu.so on the system path (here
     * Debian's 1.13, which python3-torch installs) and the JVM crashes. So the libraries are
     * extracted first, and a libtorch of another version in the process is an error.
     */
    static synchronized void loadLibtorch() {
        if (loaded) return;
        String dir = "/org/bytedeco/pytorch/" + Loader.getPlatform() + "/";
        try {
            for (String lib : new String[] {"libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so"}) {
                Loader.cacheResource(torch.class, dir + lib); // a class literal: torch's native code is not loaded yet
            }
        } catch (IOException e) {
            throw new IllegalStateException("libtorch: cannot extract its libraries: " + e.getMessage(), e);
        }
        Loader.load(torch.class);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                if (line.matches(".*/lib(torch_cpu|c10)\\.so\\.\\d.*")) {
                    throw new IllegalStateException("libtorch: a second libtorch is loaded beside JavaCPP's: " + line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        } catch (IOException e) {
            // no /proc here: nothing to check against
        }
        loaded = true;
    }

    /** The eval forward's guard: no gradients, or libtorch's inference mode (no version counters or view tracking either). */
    private Pointer evalGuard() {
        return settings.inferenceMode() ? new InferenceMode() : new NoGradGuard();
    }

    private static String spaceName(Module net) {
        if (net instanceof Supernet s) return s.space.name;
        return ((org.bnnas.supernet.StandaloneNet) net).space.name;
    }

    /**
     * Random gammas in [0.7, 1.3] and betas in [-0.2, 0.2] (seed 12), then every BN's statistics
     * as the cumulative average over one train-mode pass of the input through each path, without
     * gradients; the momentum and train/eval mode are put back.
     */
    private static void giveBnsStatistics(SupernetWorkload ours) {
        Module net = ours.net();
        List<BatchNorm2d> bns = net.modulesOf(BatchNorm2d.class);
        Rng rng = new Rng(12);
        Map<BatchNorm2d, Double> momenta = new HashMap<>();
        for (BatchNorm2d bn : bns) {
            bn.weight().data().copyFrom(uniform(bn.numFeatures, rng, 0.7, 1.3));
            bn.bias().data().copyFrom(uniform(bn.numFeatures, rng, -0.2, 0.2));
            momenta.put(bn, bn.momentum());
            bn.resetRunningStats();
            bn.setMomentum(null);
        }
        boolean training = net.isTraining();
        net.train();
        try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            if (net instanceof Supernet s) {
                for (int[] arch : SupernetWorkload.benchArchs()) s.select(arch).forward(ours.input());
            } else {
                net.forward(ours.input());
            }
        }
        for (BatchNorm2d bn : bns) bn.setMomentum(momenta.get(bn));
        net.train(training);
    }


    private static float[] uniform(int n, Rng rng, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return v;
    }

    /** An int list IValue, as forward(x, arch: List[int]) takes it. */
    private static IValue pathValue(int[] arch) {
        GenericList list = new GenericList(new Type.TypePtr(new SingletonTypePtr(IntType.getIntTypePtr().get())));
        for (int op : arch) list.push_back(new IValue((long) op));
        return new IValue(list);
    }

    /**
     * The exported module with our weights: every parameter and buffer it has must be in {@code
     * state} under the same name and shape, and every entry of {@code state} must be used.
     */
    private JitModule load(Path file, Map<String, TensorData> state) {
        JitModule m = torch.load(file.toString());
        Set<String> unused = new LinkedHashSet<>(state.keySet());
        named_parameter_list params = m.named_parameters(true);
        for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
            try (NamedTensor named = it.access()) {
                fill(named, state, unused);
            }
        }
        named_buffer_list buffers = m.named_buffers(true);
        for (named_buffer_iterator it = buffers.begin(); it.notEquals(buffers.end()); it = it.increment()) {
            try (NamedTensor named = it.access()) {
                fill(named, state, unused);
            }
        }
        if (!unused.isEmpty()) throw new IllegalStateException("libtorch: the TorchScript module has no " + unused.iterator().next() + " (and " + (unused.size() - 1) + " more of our entries)");
        if (settings.channelsLast()) {
            // As PyTorch's module.to(memory_format=torch.channels_last): every 4-d parameter, in place.
            try (NoGradGuard g = new NoGradGuard()) {
                for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
                    try (NamedTensor named = it.access(); Tensor p = new Tensor(named.value())) {
                        if (p.dim() == 4) p.set_data(p.contiguous(torch.MemoryFormat.ChannelsLast));
                    }
                }
            }
        }
        return m;
    }

    /** Copies our entry of the same name into {@code named}'s tensor; the caller keeps {@code named} alive (value() is a reference into it). */
    private static void fill(NamedTensor named, Map<String, TensorData> state, Set<String> unused) {
        String name = named.name().getString();
        Tensor t = named.value();
        TensorData d = state.get(name);
        if (d == null) throw new IllegalStateException("libtorch: our network has no " + name + ", which the TorchScript module has");
        int[] shape = d.shape();
        boolean same = shape.length == t.dim();
        for (int i = 0; same && i < shape.length; i++) same = shape[i] == t.size(i);
        if (!same || !t.is_contiguous()) {
            long[] theirs = new long[(int) t.dim()];
            for (int i = 0; i < theirs.length; i++) theirs[i] = t.size(i);
            throw new IllegalStateException("libtorch: " + name + " is " + Arrays.toString(shape) + " here and " + Arrays.toString(theirs)
                    + (t.is_contiguous() ? "" : ", not contiguous,") + " in libtorch");
        }
        if (d.dtype() == TensorData.DType.F32 && t.scalar_type().value == torch.ScalarType.Float.value) {
            t.data_ptr_float().put(d.floats());
        } else if (d.dtype() == TensorData.DType.I64 && t.scalar_type().value == torch.ScalarType.Long.value) {
            t.data_ptr_long().put(d.longs());
        } else {
            throw new IllegalStateException("libtorch: " + name + " is " + d.dtype() + " here and " + t.scalar_type() + " in libtorch");
        }
        unused.remove(name);
    }

    /**
     * Eval logits of libtorch's module and of our network on the input, path by path; fails above
     * the tolerance. Our network is put back in the mode it was in.
     */
    private double[] check(SupernetWorkload ours, JitModule m, List<int[]> archs) {
        Module net = ours.net();
        boolean training = net.isTraining();
        net.eval();
        int n = Math.max(1, archs.size());
        double[] diffs = new double[n];
        try {
            for (int i = 0; i < n; i++) {
                float[] mine;
                try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad()) {
                    if (net instanceof Supernet s) s.select(archs.get(i));
                    mine = net.forward(ours.input()).toArray();
                }
                float[] theirs;
                try (PointerScope scope = new PointerScope(); Pointer guard = evalGuard()) {
                    IValueVector args = archs.isEmpty() ? new IValueVector(inputValue) : new IValueVector(inputValue, paths[i]);
                    Tensor out = m.forward(args).toTensor().contiguous();
                    if (out.numel() != mine.length) throw new IllegalStateException("libtorch: " + out.numel() + " logits, ours " + mine.length);
                    theirs = new float[mine.length];
                    out.data_ptr_float().get(theirs);
                }
                double largest = 0, worst = 0;
                for (int k = 0; k < mine.length; k++) {
                    largest = Math.max(largest, Math.abs(mine[k]));
                    double d = Math.abs((double) theirs[k] - mine[k]);
                    worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
                }
                diffs[i] = worst / largest;
                String where = archs.isEmpty() ? "the standalone network" : "path " + i;
                System.out.printf(Locale.ROOT, "libtorch check, %s: max |libtorch - ours| %.3g, largest |logit| %.3g, ratio %.3g%n", where, worst, largest, diffs[i]);
                if (!(diffs[i] <= TOLERANCE)) {
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "libtorch's eval logits differ from ours on %s by %.3g, %.3g of the largest logit (%.3g), above the tolerance %.0e: "
                                    + "the exported network, the weight copy or a setting (%s) is wrong", where, worst, diffs[i], largest, TOLERANCE, settings));
                }
            }
        } finally {
            net.train(training);
        }
        return diffs;
    }

    /** SGD as our workload's: every parameter ours trains, with our momentum and lr, weight decay on rank > 1 for standalone. */
    private SGD optimizer(Module net, double weightDecay) {
        Map<String, Parameter> mine = net.namedParameters();
        TensorVector plain = new TensorVector(), decayed = new TensorVector();
        named_parameter_list params = module.named_parameters(true);
        for (named_parameter_iterator it = params.begin(); it.notEquals(params.end()); it = it.increment()) {
            // value() is a reference into the NamedTensor: an owned copy outlives it (the vectors copy it again).
            try (NamedTensor named = it.access(); Tensor t = new Tensor(named.value())) {
                Parameter p = mine.get(named.name().getString());
                boolean train = p.requiresGrad(); // as SupernetWorkload set ours up for this mode
                t.requires_grad_(train);
                if (!train) continue;
                if (mode == SupernetWorkload.Mode.STANDALONE && t.dim() > 1) decayed.push_back(t); else plain.push_back(t);
            }
        }
        SGD opt = new SGD(plain, options(0));
        if (decayed.size() > 0) opt.add_param_group(new OptimizerParamGroup(decayed, options(weightDecay)));
        return opt;
    }

    private static SGDOptions options(double weightDecay) {
        SGDOptions o = new SGDOptions(0.1);
        o.momentum().put(0.9);
        o.weight_decay().put(weightDecay);
        return o;
    }

}
