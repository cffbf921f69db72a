package conta.data;

import conta.image.ImageCodec;
import conta.image.RgbImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test fixture: a custom data set written by hand (classes.txt, labels.csv, black side x side JPEGs in images/). */
public final class CustomSets {
    private CustomSets() { }

    /** Writes the set into root and returns root. */
    public static Path write(Path root, String classesTxt, String labelsCsv, int side, String... ids) throws IOException {
        Files.createDirectories(root.resolve("images"));
        Files.writeString(root.resolve("classes.txt"), classesTxt);
        Files.writeString(root.resolve("labels.csv"), labelsCsv);
        for (String id : ids) ImageCodec.writeJpeg(root.resolve("images/" + id + ".jpg"), new RgbImage(side, side, new byte[side * side * 3]), 90);
        return root;
    }
}
