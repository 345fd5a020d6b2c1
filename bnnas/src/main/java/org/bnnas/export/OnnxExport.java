// OnnxExport: a standalone network (or a supernet's path, as a standalone network) as an ONNX
// model for inference: Conv, BatchNormalization (kept as nodes, so the gammas stay visible),
// Clip for ReLU6, Add for the residuals, GlobalAveragePool, Flatten and Gemm; opset 17.
package org.bnnas.export;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.export.onnx.Onnx;
import org.bnnas.space.Architecture;
import org.bnnas.supernet.ResidualBlock;
import org.bnnas.supernet.StandaloneNet;

/**
 * The graph reads "images" (batch, C, H, W; the batch dimension is free, H and W fixed at export)
 * and writes "logits" (batch, classes). Node and initializer names are the state dict's
 * (conv_bn.0.weight, features.3.conv.4.running_mean, ...), so a viewer such as Netron shows each
 * weight under the name it has in PyTorch. The model's metadata holds the space, the architecture
 * (indices and op names) and the input shape. BN runs on its running statistics, as the network in
 * evaluation does; export after training, or after recalibrating a supernet path's statistics.
 */
public final class OnnxExport {
    /** The operator set the graph is written against (ONNX 1.12, IR version 8), read by ONNX Runtime 1.12 and later. */
    public static final int OPSET = 17;
    static final int IR_VERSION = 8;
    static final String INPUT = "images", OUTPUT = "logits";

    private OnnxExport() {}

    /** Writes {@code net} for inputs of {@code channels} x size x size to {@code file} (a temporary file, then a rename). */
    public static void write(StandaloneNet net, int channels, int size, Path file) throws IOException {
        byte[] bytes = model(net, channels, size).toByteArray();
        Path tmp = file.toAbsolutePath().resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new IOException(file + ": cannot write (" + e.getMessage() + "), so it was left as it was", e);
        }
    }

    /** The model proto of {@code net}. */
    public static Onnx.ModelProto model(StandaloneNet net, int channels, int size) {
        Builder b = new Builder(net.stateDict());
        String x = INPUT;
        x = b.sequence("conv_bn", net.stem(), x);
        int i = -1; // the stem block first, then features.0, features.1, ...
        for (ResidualBlock block : net.blocks()) {
            String prefix = i < 0 ? "MBConv_ratio_1.conv" : "features." + i + ".conv";
            String y = b.sequence(prefix, block.layers(), x);
            x = block.hasResidual() ? b.node("Add", prefix + ".add", new String[] {x, y}) : y;
            i++;
        }
        x = b.sequence("conv_1x1_bn", net.head(), x);
        x = b.node("GlobalAveragePool", "pool", new String[] {x});
        x = b.node("Flatten", "flatten", new String[] {x}, attr("axis", 1));
        Linear fc = net.classifierLinear();
        b.graph.addNode(Onnx.NodeProto.newBuilder().setName("classifier.1").setOpType("Gemm").addInput(x).addInput("classifier.1.weight")
                .addInput("classifier.1.bias").addOutput(OUTPUT).addAttribute(attr("transB", 1)));
        b.initializer("classifier.1.weight");
        b.initializer("classifier.1.bias");
        b.graph.setName("bnnas " + net.space.name).addInput(value(INPUT, "batch", channels, size, size)).addOutput(value(OUTPUT, "batch", fc.outFeatures));
        Onnx.ModelProto.Builder m = Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION).setProducerName("bnnas")
                .setDomain("org.bnnas").setModelVersion(1).setGraph(b.graph)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        m.setDocString("A standalone network of the " + net.space.name + " search space, exported by bnnas.");
        m.addMetadataProps(meta("space", net.space.name));
        m.addMetadataProps(meta("arch", Architecture.format(net.arch)));
        m.addMetadataProps(meta("ops", opNames(net)));
        m.addMetadataProps(meta("input", channels + "x" + size + "x" + size));
        return m.build();
    }

    private static String opNames(StandaloneNet net) {
        StringBuilder s = new StringBuilder();
        for (int a : net.arch) s.append(s.length() == 0 ? "" : ",").append(a < 0 ? "identity" : net.space.ops.get(a).name());
        return s.toString();
    }

    /** Appends nodes and initializers to one graph, each node named as its module in the state dict. */
    private static final class Builder {
        final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder();
        private final Map<String, TensorData> state;
        private boolean clipBounds;

        Builder(Map<String, TensorData> state) {
            this.state = state;
        }

        /** The layers of a Sequential named {@code prefix}: Conv2d, BatchNorm2d and ReLU6 in order; returns the last output's name. */
        String sequence(String prefix, Sequential layers, String x) {
            for (int k = 0; k < layers.size(); k++) {
                Module m = layers.get(k);
                String name = prefix + "." + k;
                if (m instanceof Conv2d c) {
                    x = node("Conv", name, new String[] {x, weight(name + ".weight")}, attrs("kernel_shape", c.kernel, c.kernel),
                            attrs("strides", c.stride, c.stride), attrs("pads", c.padding, c.padding, c.padding, c.padding), attr("group", c.groups),
                            attrs("dilations", 1, 1));
                } else if (m instanceof BatchNorm2d bn) {
                    x = node("BatchNormalization", name, new String[] {x, weight(name + ".weight"), weight(name + ".bias"),
                            weight(name + ".running_mean"), weight(name + ".running_var")}, attrFloat("epsilon", bn.eps));
                } else if (m instanceof ReLU6) {
                    clipBounds();
                    x = node("Clip", name, new String[] {x, "relu6.min", "relu6.max"});
                } else {
                    throw new IllegalArgumentException("ONNX export: " + name + " is a " + m.getClass().getSimpleName() + ", which has no ONNX node here");
                }
            }
            return x;
        }

        /** A node with one output, named as the node. */
        String node(String op, String name, String[] inputs, Onnx.AttributeProto.Builder... attributes) {
            Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setName(name).setOpType(op).addOutput(name);
            for (String in : inputs) n.addInput(in);
            for (Onnx.AttributeProto.Builder a : attributes) n.addAttribute(a);
            graph.addNode(n);
            return name;
        }

        String weight(String name) {
            initializer(name);
            return name;
        }

        /** The state dict's tensor of that name as a float32 initializer (raw little-endian data, PyTorch's layout). */
        void initializer(String name) {
            TensorData d = state.get(name);
            if (d == null || d.dtype() != TensorData.DType.F32) throw new IllegalStateException("ONNX export: no float tensor " + name);
            float[] v = d.floats();
            ByteBuffer raw = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(v);
            Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE)
                    .setRawData(ByteString.copyFrom(raw.array()));
            for (int dim : d.shape()) t.addDims(dim);
            graph.addInitializer(t);
        }

        /** Clip's bounds for ReLU6, 0 and 6, as scalar initializers (since opset 11 they are inputs, not attributes). */
        void clipBounds() {
            if (clipBounds) return;
            clipBounds = true;
            graph.addInitializer(Onnx.TensorProto.newBuilder().setName("relu6.min").setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).addFloatData(0f));
            graph.addInitializer(Onnx.TensorProto.newBuilder().setName("relu6.max").setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).addFloatData(6f));
        }
    }

    static Onnx.AttributeProto.Builder attr(String name, int value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(value);
    }

    static Onnx.AttributeProto.Builder attrs(String name, int... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INTS);
        for (int v : values) a.addInts(v);
        return a;
    }

    static Onnx.AttributeProto.Builder attrFloat(String name, float value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT).setF(value);
    }

    static Onnx.StringStringEntryProto meta(String key, String value) {
        return Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** A float tensor value: its first dimension named {@code batch} (free), the rest fixed. */
    static Onnx.ValueInfoProto value(String name, String batch, int... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (int d : dims) shape.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }
}
