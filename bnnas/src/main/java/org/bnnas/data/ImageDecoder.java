// ImageDecoder: an image file (JPEG, PNG, BMP, ...) decoded to 8-bit RGB as torchvision's loader
// makes it (PIL's Image.open(f).convert("RGB")): grayscale replicated, alpha dropped, palette
// looked up, CMYK JPEGs converted with PIL's formula.
package org.bnnas.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Decodes with the JDK's image readers (javax.imageio; its JPEG reader is libjpeg's). The raster's
 * own samples are read, never getRGB, which would colour-convert a grayscale image. A file that
 * cannot be decoded is a {@link DataException} naming it.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    public static ImageTransforms.Image decode(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) throw new DataException(file + ": cannot open the image");
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new DataException(file + ": not an image this reader knows (JPEG, PNG, BMP, GIF)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                if ("jpeg".equalsIgnoreCase(reader.getFormatName())) {
                    IIOMetadata meta = reader.getImageMetadata(0); // before the image, which the forward-only stream passes
                    if (components(meta) == 4) return cmyk(reader.readRaster(0, null), adobeTransform(meta), file); // the file's own samples
                }
                return rgb(reader.read(0), file);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException d) throw d;
            throw new DataException(file + ": cannot decode the image (" + e.getMessage() + ")");
        }
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
