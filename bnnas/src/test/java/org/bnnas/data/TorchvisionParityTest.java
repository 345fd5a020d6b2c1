// TorchvisionParityTest: ImageDecoder and ImageTransforms against torchvision 0.14 and PIL on the
// images src/test/python/torchvision_transforms.py writes: the same crop boxes for the same draws,
// the same bytes from every resize and crop (ImageTransforms computes PIL's resampler as Pillow
// does), and the same decoded pixels (the JPEGs here: baseline and progressive, three chroma
// subsamplings, gray and CMYK).
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bnnas.supernet.OfficialNet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchvisionParityTest {

    @TempDir
    static Path dir;
    static JsonObject manifest;

    @BeforeAll
    static void torchvisionsOutputs() throws Exception {
        OfficialNet.run(List.of(OfficialNet.python("torchvision"), "src/test/python/torchvision_transforms.py", dir.toString()));
        manifest = JsonParser.parseString(Files.readString(dir.resolve("manifest.json"))).getAsJsonObject();
    }

    static ImageTransforms.Image read(JsonObject e) throws Exception {
        return new ImageTransforms.Image(Files.readAllBytes(dir.resolve(e.get("file").getAsString())), e.get("width").getAsInt(), e.get("height").getAsInt());
    }

    @Test
    void randomResizedCropDrawsTheSameBoxesAsTorchvision() {
        int cases = 0;
        for (JsonElement p : manifest.getAsJsonArray("params")) {
            JsonObject o = p.getAsJsonObject();
            JsonArray draws = o.getAsJsonArray("draws");
            int[] next = {0};
            ImageTransforms.Box b = ImageTransforms.randomResizedCrop(o.get("width").getAsInt(), o.get("height").getAsInt(),
                    () -> draws.get(next[0]++).getAsDouble());
            JsonArray expected = o.getAsJsonArray("box");
            assertEquals(List.of(expected.get(0).getAsInt(), expected.get(1).getAsInt(), expected.get(2).getAsInt(), expected.get(3).getAsInt()),
                    List.of(b.top(), b.left(), b.height(), b.width()), o.toString());
            cases++;
        }
        assertEquals(100, cases, "five image shapes (among them ones only the fallback center crop fits) with 20 draws each");
    }

    @Test
    void everyResizeAndCropGivesPillowsBytes() throws Exception {
        for (JsonElement e : manifest.getAsJsonArray("images")) {
            JsonObject o = e.getAsJsonObject();
            String name = o.get("name").getAsString();
            ImageTransforms.Image decoded = read(o.getAsJsonObject("decoded")); // torchvision's input, so that only the transforms differ
            assertArrayEquals(read(o.getAsJsonObject("eval")).rgb(), ImageTransforms.eval(decoded, 224).rgb(), name + ": Resize(256), CenterCrop(224)");
            for (JsonElement c : o.getAsJsonArray("crops")) {
                JsonArray box = c.getAsJsonObject().getAsJsonArray("box");
                ImageTransforms.Box b = new ImageTransforms.Box(box.get(0).getAsInt(), box.get(1).getAsInt(), box.get(2).getAsInt(), box.get(3).getAsInt());
                assertArrayEquals(read(c.getAsJsonObject()).rgb(), ImageTransforms.resize(ImageTransforms.crop(decoded, b), 224, 224).rgb(),
                        name + ": resized_crop " + b);
            }
            assertArrayEquals(read(o.getAsJsonObject("flipped")).rgb(), ImageTransforms.flip(decoded).rgb(), name + ": hflip");
        }
    }

    @Test
    void decodingMatchesPilsConvertRgb() throws Exception {
        for (JsonElement e : manifest.getAsJsonArray("images")) {
            JsonObject o = e.getAsJsonObject();
            String name = o.get("name").getAsString();
            ImageTransforms.Image ours = ImageDecoder.decode(dir.resolve(name)), theirs = read(o.getAsJsonObject("decoded"));
            assertEquals(theirs.width(), ours.width(), name);
            assertEquals(theirs.height(), ours.height(), name);
            int worst = 0;
            for (int i = 0; i < ours.rgb().length; i++) worst = Math.max(worst, Math.abs((ours.rgb()[i] & 0xff) - (theirs.rgb()[i] & 0xff)));
            assertEquals(0, worst, name + ": the JDK's JPEG reader (libjpeg) and PIL's (libjpeg-turbo) decode these bytes alike");
        }
    }
}
