"""Makes cmyk.jpg (a CMYK JPEG, as Photoshop exports print images) and cmyk_reference.png (PIL's RGB decode of it)
from a procedurally drawn 96x64 RGB image (ImageTest-free: no external data). Run: python3 make_cmyk.py"""
from PIL import Image

w, h = 96, 64
im = Image.new("RGB", (w, h))
px = im.load()
for y in range(h):
    for x in range(w):
        px[x, y] = ((x * 255) // (w - 1), (y * 255) // (h - 1), 255 - (x * 255) // (w - 1) if x > 40 else 60)
im.convert("CMYK").save("cmyk.jpg", quality=95)
Image.open("cmyk.jpg").convert("RGB").save("cmyk_reference.png")
print(Image.open("cmyk.jpg").mode, Image.open("cmyk.jpg").size)
