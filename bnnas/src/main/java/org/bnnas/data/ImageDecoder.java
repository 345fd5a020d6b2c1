// ImageDecoder: an image file (JPEG, PNG, BMP, ...) decoded to 8-bit RGB as torchvision's loader
// makes it (PIL's Image.open(f).convert("RGB")): grayscale replicated, alpha dropped, palette
// looked up, CMYK JPEGs converted with PIL's formula, truncated JPEGs refused.
package org.bnnas.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * A JPEG goes to libjpeg-turbo through OpenCV's imdecode, which decodes it in about half the JDK's
 * time and to the same bytes as PIL (PIL's decoder is libjpeg-turbo too), unless it is truncated
 * (its last bytes are not the end-of-image marker: libjpeg would fill the rest with gray and say
 * nothing) or has four components (CMYK, which PIL converts by its own formula). Those and every
 * other format go to the JDK's image readers (javax.imageio), whose raster's own samples are read,
 * never getRGB, which would colour-convert a grayscale image. A file that cannot be decoded, or a
 * truncated JPEG, is a {@link DataException} naming it, as PIL refuses them.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    public static ImageTransforms.Image decode(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DataException(file + ": cannot read the image (" + e.getMessage() + ")");
        }
        boolean cmyk = jpegComponents(bytes) == 4;
        if (OpenCvJpeg.LOADED && !cmyk && isJpeg(bytes) && endsWithEndOfImage(bytes)) {
            ImageTransforms.Image im = OpenCvJpeg.decode(bytes);
            if (im != null) return im;
        }
        return decodeWithImageIo(bytes, cmyk, file);
    }

    /** {@code cmyk}: a JPEG of four components, whose samples are converted with PIL's formula. */
    private static ImageTransforms.Image decodeWithImageIo(byte[] bytes, boolean cmyk, Path file) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new DataException(file + ": not an image this reader knows (JPEG, PNG, BMP, GIF)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                ImageTransforms.Image im;
                if (cmyk) {
                    IIOMetadata meta = reader.getImageMetadata(0); // before the image, which the forward-only stream passes
                    im = cmyk(reader.readRaster(0, null), adobeTransform(meta), file); // the file's own samples
                } else {
                    im = rgb(reader.read(0), file);
                }
                // the JDK's JPEG reader fills a truncated file's missing rows with gray and only warns
                for (String w : warnings) if (w.contains("EOI")) throw new DataException(file + ": truncated (" + w + ")");
                return im;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            throw new DataException(file + ": cannot decode the image (" + e.getMessage() + ")");
        }
    }

    /** OpenCV's imdecode, loaded once; where its native libraries cannot load, every image goes to the JDK's readers. */
    private static final class OpenCvJpeg {
        static final boolean LOADED = load();

        private static boolean load() {
            try {
                Loader.load(opencv_imgcodecs.class);
                return true;
            } catch (Throwable e) { // UnsatisfiedLinkError and the like: the slower decoder gives the same bytes
                System.err.println("bnnas: OpenCV's JPEG decoder did not load (" + e + "); decoding with the JDK's, about half as fast");
                return false;
            }
        }

        /** The image as RGB bytes, or null where OpenCV cannot decode it (the JDK's reader then says why). */
        static ImageTransforms.Image decode(byte[] bytes) {
            try (BytePointer data = new BytePointer(bytes);
                    Mat encoded = new Mat(1, bytes.length, opencv_core.CV_8UC1, data);
                    Mat m = opencv_imgcodecs.imdecode(encoded, opencv_imgcodecs.IMREAD_COLOR_RGB | opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION)) {
                if (m.empty() || m.type() != opencv_core.CV_8UC3 || !m.isContinuous()) return null;
                byte[] rgb = new byte[m.rows() * m.cols() * 3];
                m.data().get(rgb);
                return new ImageTransforms.Image(rgb, m.cols(), m.rows());
            }
        }
    }

    static boolean isJpeg(byte[] b) {
        return b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF;
    }

    /** Whether the file's last two bytes are the end-of-image marker, which inside a JPEG's entropy-coded data cannot occur. */
    static boolean endsWithEndOfImage(byte[] b) {
        return b.length >= 4 && (b[b.length - 2] & 0xff) == 0xFF && (b[b.length - 1] & 0xff) == 0xD9;
    }

    /** The image's samples as RGB: three bands as they are, one (gray) or two (gray and alpha) replicated, a palette looked up. */
    static ImageTransforms.Image rgb(BufferedImage im, Path file) {
        int w = im.getWidth(), h = im.getHeight();
        byte[] out = new byte[w * h * 3];
        ColorModel cm = im.getColorModel();
        Raster r = im.getRaster();
        if (cm instanceof IndexColorModel icm) {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    int o = (y * w + x) * 3;
                    out[o] = (byte) icm.getRed(row[x]);
                    out[o + 1] = (byte) icm.getGreen(row[x]);
                    out[o + 2] = (byte) icm.getBlue(row[x]);
                }
            }
            return new ImageTransforms.Image(out, w, h);
        }
        int bands = r.getNumBands();
        int[] bits = cm.getComponentSize();
        if (bands < 1 || bands > 4) throw new DataException(file + ": an image of " + bands + " bands");
        boolean gray = cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY;
        if (Arrays.stream(bits).allMatch(b -> b == 8) && r.getDataBuffer() instanceof DataBufferByte data && data.getNumBanks() == 1
                && r.getSampleModel() instanceof ComponentSampleModel layout) {
            return rgbFromBytes(data, layout, r, gray, out);
        }
        int shift = Math.max(0, bits[0] - 8); // 16-bit samples keep their high byte
        int[] sample = new int[w];
        for (int c = 0; c < 3; c++) {
            int band = gray ? 0 : c;
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, band, sample);
                for (int x = 0; x < w; x++) out[(y * w + x) * 3 + c] = (byte) (sample[x] >> shift);
            }
        }
        return new ImageTransforms.Image(out, w, h);
    }

    /** The samples of an 8-bit raster read straight from its array (what the JPEG and PNG readers give): the same bytes getSamples gives, without a call per row and band. */
    private static ImageTransforms.Image rgbFromBytes(DataBufferByte data, ComponentSampleModel layout, Raster r, boolean gray, byte[] out) {
        byte[] d = data.getData();
        int w = r.getWidth(), h = r.getHeight(), pixelStride = layout.getPixelStride(), rowStride = layout.getScanlineStride();
        int[] bandOffsets = layout.getBandOffsets();
        int red = bandOffsets[0], green = bandOffsets[gray ? 0 : 1], blue = bandOffsets[gray ? 0 : 2];
        int origin = data.getOffset() - r.getSampleModelTranslateY() * rowStride - r.getSampleModelTranslateX() * pixelStride;
        for (int y = 0; y < h; y++) {
            int p = origin + (y + r.getMinY()) * rowStride + r.getMinX() * pixelStride, o = y * w * 3;
            for (int x = 0; x < w; x++, p += pixelStride, o += 3) {
                out[o] = d[p + red];
                out[o + 1] = d[p + green];
                out[o + 2] = d[p + blue];
            }
        }
        return new ImageTransforms.Image(out, w, h);
    }

    /**
     * The component count of a JPEG's frame header, found by walking the marker segments from the
     * start (0 where the bytes are not a JPEG or its scan comes first).
     */
    static int jpegComponents(byte[] b) {
        if (!isJpeg(b)) return 0;
        int p = 2;
        while (p + 3 < b.length) {
            if ((b[p] & 0xff) != 0xFF) return 0; // not at a marker: the reader will say what is wrong
            int marker = b[p + 1] & 0xff;
            if (marker == 0xFF) { // a fill byte
                p++;
                continue;
            }
            p += 2;
            if (marker == 0xD9 || marker == 0xDA) return 0;
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; // markers without a segment
            int length = ((b[p] & 0xff) << 8) | (b[p + 1] & 0xff);
            boolean frameHeader = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (frameHeader) return p + 7 < b.length ? b[p + 7] & 0xff : 0; // after the length, precision, height and width
            if (length < 2) return 0;
            p += length;
        }
        return 0;
    }

    /**
     * A CMYK or YCCK JPEG's samples as PIL converts them: YCCK's first three to CMY by libjpeg's
     * YCbCr formulas, an Adobe file's samples inverted (PIL reads them as "CMYK;I"), then
     * R = (255 - K) (255 - C) / 255 with PIL's rounding, likewise G and B.
     */
    static ImageTransforms.Image cmyk(Raster r, int adobeTransform, Path file) {
        if (r.getNumBands() != 4) throw new DataException(file + ": a JPEG of " + r.getNumBands() + " components that is neither RGB nor gray");
        int w = r.getWidth(), h = r.getHeight();
        byte[] out = new byte[w * h * 3];
        int[] px = new int[4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(x + r.getMinX(), y + r.getMinY(), px);
                if (adobeTransform == 2) { // YCCK: Y, Cb, Cr to the complements of C, M, Y
                    double yy = px[0], cb = px[1] - 128, cr = px[2] - 128;
                    px[0] = 255 - clamp((int) Math.round(yy + 1.402 * cr));
                    px[1] = 255 - clamp((int) Math.round(yy - 0.344136 * cb - 0.714136 * cr));
                    px[2] = 255 - clamp((int) Math.round(yy + 1.772 * cb));
                }
                if (adobeTransform >= 0) for (int c = 0; c < 4; c++) px[c] = 255 - px[c];
                int nk = 255 - px[3];
                int o = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) out[o + c] = (byte) clamp(nk - mulDiv255(px[c], nk));
            }
        }
        return new ImageTransforms.Image(out, w, h);
    }

    /** PIL's MULDIV255: a b / 255 rounded. */
    private static int mulDiv255(int a, int b) {
        int t = a * b + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    /** The transform of a JPEG's Adobe marker (0: none, 1: YCbCr, 2: YCCK), or -1 when it has none. */
    static int adobeTransform(IIOMetadata meta) {
        if (meta == null) return -1;
        Node adobe = find(meta.getAsTree("javax_imageio_jpeg_image_1.0"), "app14Adobe");
        if (adobe == null) return -1;
        Node t = adobe.getAttributes().getNamedItem("transform");
        return t == null ? 0 : Integer.parseInt(t.getNodeValue());
    }

    /** The number of colour components a JPEG's frame header declares (0 where the metadata does not say). */
    static int components(IIOMetadata meta) {
        if (meta == null) return 0;
        Node sof = find(meta.getAsTree("javax_imageio_jpeg_image_1.0"), "sof");
        if (sof == null) return 0;
        int n = 0;
        for (int i = 0; i < sof.getChildNodes().getLength(); i++) if (sof.getChildNodes().item(i).getNodeName().equals("componentSpec")) n++;
        return n;
    }

    private static Node find(Node n, String name) {
        if (n.getNodeName().equals(name)) return n;
        NodeList children = n.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            Node f = find(children.item(i), name);
            if (f != null) return f;
        }
        return null;
    }
}
