// OpCheck: the one helper every op test goes through: forward against a float64 reference,
// backward against central finite differences of that reference in float64.
package org.bnnas.engine.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

/**
 * Checks one op on random inputs of the given shapes. The op under test maps input tensors to
 * an output tensor; the reference maps the same inputs, as float64 arrays in logical row-major
 * order, to the output. The backward is checked as a vector-Jacobian product with a random
 * output gradient R: the engine's input gradients against the finite differences of
 * sum(reference(x) * R). Only inputs listed in {@code differentiable} are checked (and require grad).
 */
public final class OpCheck {
    private final String name;
    private final int[][] shapes;
    private boolean[] differentiable;
    private double forwardTol = 1e-4, backwardTol = 2e-3;
    private long seed = 1;
    private double inputScale = 1.0;

    private OpCheck(String name, int[]... shapes) {
        this.name = name;
        this.shapes = shapes;
        this.differentiable = new boolean[shapes.length];
        Arrays.fill(differentiable, true);
    }

    public static OpCheck of(String name, int[]... shapes) {
        return new OpCheck(name, shapes);
    }

    /** Which inputs get gradients (the rest are constants, e.g. running statistics). */
    public OpCheck grads(boolean... which) {
        this.differentiable = which;
        return this;
    }

    public OpCheck tolerance(double forward, double backward) {
        this.forwardTol = forward;
        this.backwardTol = backward;
        return this;
    }

    public OpCheck seed(long s) {
        this.seed = s;
        return this;
    }

    public OpCheck scale(double s) {
        this.inputScale = s;
        return this;
    }

    /** Runs the check; inputs are drawn uniform in [-scale, scale] and rounded to float. */
    public void run(Function<Tensor[], Tensor> op, Function<double[][], double[]> reference) {
        Random rnd = new Random(seed);
        double[][] x = new double[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            x[i] = new double[numel(shapes[i])];
            for (int j = 0; j < x[i].length; j++) x[i][j] = (float) ((rnd.nextDouble() * 2 - 1) * inputScale);
        }
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor[] in = new Tensor[shapes.length];
            for (int i = 0; i < shapes.length; i++) {
                in[i] = Tensor.fromArray(toFloat(x[i]), shapes[i]);
                if (differentiable[i]) in[i].requiresGrad(true);
            }
            Tensor out = op.apply(in);
            double[] expected = reference.apply(x);
            compare(name + " forward", out.toArray(), expected, forwardTol);

            boolean any = false;
            for (boolean d : differentiable) any |= d;
            if (!any) return;
            double[] r = new double[expected.length];
            for (int j = 0; j < r.length; j++) r[j] = (float) (rnd.nextDouble() * 2 - 1);
            Autograd.backward(out, Tensor.fromArray(toFloat(r), out.shape().dims()));
            for (int i = 0; i < shapes.length; i++) {
                if (!differentiable[i]) continue;
                double[] numeric = finiteDifference(reference, x, i, r);
                Tensor g = in[i].grad();
                if (g == null) fail(name + ": input " + i + " received no gradient");
                compare(name + " gradient of input " + i, g.toArray(), numeric, backwardTol);
                in[i].setGrad(null);
                g.close();
            }
        }
    }

    private static double[] finiteDifference(Function<double[][], double[]> f, double[][] x, int which, double[] r) {
        double[] grad = new double[x[which].length];
        for (int j = 0; j < grad.length; j++) {
            double keep = x[which][j];
            double h = 1e-6 * Math.max(1.0, Math.abs(keep));
            x[which][j] = keep + h;
            double up = dot(f.apply(x), r);
            x[which][j] = keep - h;
            double down = dot(f.apply(x), r);
            x[which][j] = keep;
            grad[j] = (up - down) / (2 * h);
        }
        return grad;
    }

    /** Passes when |got - want| <= tol * (1 + |want|) everywhere; reports the worst errors. */
    static void compare(String what, float[] got, double[] want, double tol) {
        assertTrue(got.length == want.length, what + ": " + got.length + " values, expected " + want.length);
        double maxAbs = 0, maxRel = 0;
        int worst = -1;
        for (int i = 0; i < got.length; i++) {
            double err = Math.abs(got[i] - want[i]);
            double allowed = tol * (1 + Math.abs(want[i]));
            if (err > maxAbs) maxAbs = err;
            maxRel = Math.max(maxRel, err / Math.max(1e-12, Math.abs(want[i])));
            if (!(err <= allowed) && worst < 0) worst = i;
        }
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + got[worst] + ", expected " + want[worst]
                    + " (max abs error " + maxAbs + ", max rel error " + maxRel + ", tolerance " + tol + ")");
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
