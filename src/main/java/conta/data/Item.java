package conta.data;

import conta.image.Mask;
import conta.image.RgbImage;

/** A decoded dataset entry before augmentation: 8-bit RGB image, its mask (or null) and its image-level labels (1..C). */
public record Item(String id, RgbImage image, Mask mask, int[] labels) { }
