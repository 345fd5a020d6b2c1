// ImageTransforms: the official ImageNet transforms on 8-bit RGB images, as torchvision 0.14 applies
// them to PIL images: training's random-resized crop and horizontal flip, evaluation's resize of
// the shorter side and center crop, with PIL's antialiased bilinear resampling computed the way
// Pillow computes it (its coefficients, fixed point and rounding), so that the bytes are Pillow's.
package org.bnnas.data;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

/**
 * Images are byte arrays of height x width x 3, rows top to bottom, RGB interleaved. Where
 * torchvision draws a random number this takes a uniform draw in [0, 1) from the caller: a scale
 * or log-ratio is a + (b - a) u, an integer in [lo, hi) is lo + floor((hi - lo) u). Python's round
 * (half to even) is {@link Math#rint}.
 */
public final class ImageTransforms {
    /** A decoded image: height x width x 3 bytes. */
    public record Image(byte[] rgb, int width, int height) {
        public Image {
            if (rgb.length != width * height * 3) throw new IllegalArgumentException("image " + width + "x" + height + " needs " + width * height * 3 + " bytes");
        }

        public int at(int y, int x, int c) {
            return rgb[(y * width + x) * 3 + c] & 0xff;
        }
    }

    /** A crop box: top row, left column, height, width (torchvision's i, j, h, w). */
    public record Box(int top, int left, int height, int width) {}

    /** RandomResizedCrop's defaults: area 8% to 100%, aspect ratio 3/4 to 4/3. */
    public static final double SCALE_MIN = 0.08, SCALE_MAX = 1.0, RATIO_MIN = 3.0 / 4, RATIO_MAX = 4.0 / 3;
    /** Evaluation resizes the shorter side to 256 for a 224 crop: this ratio for other sizes. */
    public static final double EVAL_RESIZE = 256.0 / 224;

    private ImageTransforms() {}

    /**
     * RandomResizedCrop.get_params: up to 10 tries of an area and an aspect ratio that fit the
     * image, each try drawing the area, then the log-ratio, and, once one fits, the top and the
     * left; else a center crop at the nearest allowed ratio.
     */
    public static Box randomResizedCrop(int width, int height, DoubleSupplier uniform) {
        // torchvision takes the log-ratio bounds as float32 (torch.log of a float tensor)
        double area = (double) height * width, logMin = (float) Math.log(RATIO_MIN), logMax = (float) Math.log(RATIO_MAX);
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * (SCALE_MIN + (SCALE_MAX - SCALE_MIN) * uniform.getAsDouble());
            double aspect = Math.exp(logMin + (logMax - logMin) * uniform.getAsDouble());
            int w = (int) Math.rint(Math.sqrt(targetArea * aspect)), h = (int) Math.rint(Math.sqrt(targetArea / aspect));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int top = (int) Math.floor((height - h + 1) * uniform.getAsDouble());
                int left = (int) Math.floor((width - w + 1) * uniform.getAsDouble());
                return new Box(top, left, h, w);
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < RATIO_MIN) {
            w = width;
            h = (int) Math.rint(w / RATIO_MIN);
        } else if (inRatio > RATIO_MAX) {
            h = height;
            w = (int) Math.rint(h * RATIO_MAX);
        } else {
            w = width;
            h = height;
        }
        return new Box((height - h) / 2, (width - w) / 2, h, w);
    }

    /** Resize(size) of an image: the shorter side to {@code size}, the longer in proportion (truncated), as torchvision computes it. */
    public static int[] shorterSideTo(int width, int height, int size) {
        if (width <= height) return new int[] {size, (int) ((double) size * height / width)};
        return new int[] {(int) ((double) size * width / height), size};
    }

    /** CenterCrop's box (no padding: the image must be at least the crop). */
    public static Box centerCrop(int width, int height, int size) {
        if (width < size || height < size) throw new IllegalArgumentException("a " + size + " center crop of a " + width + "x" + height + " image");
        return new Box((int) Math.rint((height - size) / 2.0), (int) Math.rint((width - size) / 2.0), size, size);
    }

    /** The training transform's pixels: a random-resized crop to size x size, flipped when {@code flip}. */
    public static Image train(Image im, int size, DoubleSupplier uniform, boolean flipAllowed) {
        Box b = randomResizedCrop(im.width(), im.height(), uniform);
        Image out = resize(crop(im, b), size, size);
        return flipAllowed && uniform.getAsDouble() < 0.5 ? flip(out) : out;
    }

    /** The evaluation transform's pixels: the shorter side resized to size x 256 / 224, then a size x size center crop. */
    public static Image eval(Image im, int size) {
        int[] wh = shorterSideTo(im.width(), im.height(), (int) (size * EVAL_RESIZE));
        Image r = resize(im, wh[0], wh[1]);
        return crop(r, centerCrop(r.width(), r.height(), size));
    }

    public static Image crop(Image im, Box b) {
        if (b.top() < 0 || b.left() < 0 || b.top() + b.height() > im.height() || b.left() + b.width() > im.width()) {
            throw new IllegalArgumentException("crop " + b + " outside a " + im.width() + "x" + im.height() + " image");
        }
        byte[] out = new byte[b.width() * b.height() * 3];
        for (int y = 0; y < b.height(); y++) {
            System.arraycopy(im.rgb(), ((b.top() + y) * im.width() + b.left()) * 3, out, y * b.width() * 3, b.width() * 3);
        }
        return new Image(out, b.width(), b.height());
    }

    public static Image flip(Image im) {
        byte[] out = new byte[im.rgb().length];
        int w = im.width();
        byte[] in = im.rgb();
        for (int y = 0; y < im.height(); y++) {
            for (int x = 0, p = y * w * 3, o = (y * w + w - 1) * 3; x < w; x++, p += 3, o -= 3) {
                out[o] = in[p];
                out[o + 1] = in[p + 1];
                out[o + 2] = in[p + 2];
            }
        }
        return new Image(out, w, im.height());
    }

    /** Pillow's fixed point: 32 bits less 8 for the result and 2 for overflow. */
    private static final int PRECISION_BITS = 22;

    /** One pass's coefficients: for each output index, its first input index, its count and its weights in fixed point. */
    private record Coefficients(int[] first, int[] count, int[][] weights) {}

    /** Pillow's precompute_coeffs and normalize_coeffs_8bpc for the bilinear filter (support 1), input [0, inSize). */
    private static Coefficients coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize, filterScale = Math.max(scale, 1.0), support = filterScale;
        int[] first = new int[outSize], count = new int[outSize];
        int[][] weights = new int[outSize][];
        for (int o = 0; o < outSize; o++) {
            double center = (o + 0.5) * scale, ss = 1.0 / filterScale;
            int min = Math.max((int) (center - support + 0.5), 0);
            int n = Math.min((int) (center + support + 0.5), inSize) - min;
            double[] k = new double[Math.max(n, 0)];
            double sum = 0;
            for (int x = 0; x < n; x++) {
                double t = Math.abs((x + min - center + 0.5) * ss);
                k[x] = t < 1.0 ? 1.0 - t : 0.0;
                sum += k[x];
            }
            int[] fixed = new int[k.length];
            for (int x = 0; x < k.length; x++) {
                double v = sum != 0.0 ? k[x] / sum : k[x];
                fixed[x] = (int) (v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
            }
            first[o] = min;
            count[o] = Math.max(n, 0);
            weights[o] = fixed;
        }
        return new Coefficients(first, count, weights);
    }

    /** Pillow's rounding and clipping of an accumulated fixed-point sum to a byte. */
    private static int clip8(int sum) {
        int v = sum >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /**
     * PIL's Image.resize(BILINEAR): a horizontal pass over the rows the vertical pass reads, then
     * a vertical pass; a pass whose size does not change is skipped.
     */
    public static Image resize(Image im, int outWidth, int outHeight) {
        int w = im.width(), h = im.height();
        Coefficients vertical = coefficients(h, outHeight);
        int rowFirst = vertical.first()[0], rowEnd = vertical.first()[outHeight - 1] + vertical.count()[outHeight - 1];
        byte[] src = im.rgb();
        int srcW = w, srcRowOffset = 0, srcRows = h;
        if (outWidth != w) {
            Coefficients horizontal = coefficients(w, outWidth);
            int rows = rowEnd - rowFirst;
            byte[] tmp = new byte[rows * outWidth * 3];
            for (int y = 0; y < rows; y++) {
                int in = (y + rowFirst) * w * 3, out = y * outWidth * 3;
                for (int x = 0; x < outWidth; x++) {
                    int[] k = horizontal.weights()[x];
                    int base = in + horizontal.first()[x] * 3;
                    int s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                    for (int t = 0; t < k.length; t++) {
                        int p = base + t * 3;
                        s0 += (src[p] & 0xff) * k[t];
                        s1 += (src[p + 1] & 0xff) * k[t];
                        s2 += (src[p + 2] & 0xff) * k[t];
                    }
                    tmp[out + x * 3] = (byte) clip8(s0);
                    tmp[out + x * 3 + 1] = (byte) clip8(s1);
                    tmp[out + x * 3 + 2] = (byte) clip8(s2);
                }
            }
            src = tmp;
            srcW = outWidth;
            srcRowOffset = rowFirst;
            srcRows = rows;
        }
        if (outHeight == h) {
            if (srcRows == h && srcRowOffset == 0) return new Image(src == im.rgb() ? src.clone() : src, srcW, h);
        }
        // row by row, each input row's weighted samples added to the whole output row: the sums are
        // integers, so their order does not change them
        int rowBytes = srcW * 3;
        byte[] out = new byte[outHeight * rowBytes];
        int[] sums = new int[rowBytes];
        for (int y = 0; y < outHeight; y++) {
            int[] k = vertical.weights()[y];
            int first = vertical.first()[y] - srcRowOffset;
            Arrays.fill(sums, 1 << (PRECISION_BITS - 1));
            for (int t = 0; t < k.length; t++) {
                int row = (first + t) * rowBytes, weight = k[t];
                for (int i = 0; i < rowBytes; i++) sums[i] += (src[row + i] & 0xff) * weight;
            }
            int o = y * rowBytes;
            for (int i = 0; i < rowBytes; i++) out[o + i] = (byte) clip8(sums[i]);
        }
        return new Image(out, srcW, outHeight);
    }
}
