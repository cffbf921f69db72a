/*
 * libjpeg as the oracle for conta.image.JpegScan (test-data/jpeg/make_jpeg_fixtures.py builds and runs it; CI never does).
 *   oracle FILE...                                  per file: "FILE<TAB>clean", "FILE<TAB>warn<TAB>first warning" or
 *                                                   "FILE<TAB>fatal<TAB>error", decoding every scanline as OpenCV does
 *   oracle --encode IN OUT X Y W H RESTART_ROWS GREY PROGRESSIVE
 *                                                   re-encodes the WxH crop at (X, Y) of IN at quality 90 (4:2:0 colour
 *                                                   or grey, a restart marker every RESTART_ROWS MCU rows, 0 for none)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

struct err { struct jpeg_error_mgr pub; jmp_buf jb; char first[JMSG_LENGTH_MAX]; int warned; };
static void on_error(j_common_ptr c) { longjmp(((struct err *) c->err)->jb, 1); }
static void on_emit(j_common_ptr c, int level) {
  struct err *e = (struct err *) c->err;
  if (level < 0 && !e->warned) { e->warned = 1; (*c->err->format_message)(c, e->first); }
}

/* Decodes f fully; returns the pixels (RGB) when keep, else NULL. */
static unsigned char *decode(const char *name, FILE *f, int keep, int *w, int *h) {
  struct jpeg_decompress_struct ci; struct err e; unsigned char *px = NULL;
  memset(&e, 0, sizeof e);
  ci.err = jpeg_std_error(&e.pub); e.pub.error_exit = on_error; e.pub.emit_message = on_emit;
  if (setjmp(e.jb)) {
    char m[JMSG_LENGTH_MAX]; (*ci.err->format_message)((j_common_ptr) &ci, m);
    printf("%s\tfatal\t%s\n", name, m); jpeg_destroy_decompress(&ci); free(px); return NULL;
  }
  jpeg_create_decompress(&ci); jpeg_stdio_src(&ci, f); jpeg_read_header(&ci, TRUE);
  ci.out_color_space = JCS_RGB;
  jpeg_start_decompress(&ci);
  *w = ci.output_width; *h = ci.output_height;
  px = malloc((size_t) *w * *h * 3);
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW row = px + (size_t) ci.output_scanline * *w * 3;
    jpeg_read_scanlines(&ci, &row, 1);
  }
  jpeg_finish_decompress(&ci);
  if (!keep) { if (e.warned) printf("%s\twarn\t%s\n", name, e.first); else printf("%s\tclean\n", name); }
  jpeg_destroy_decompress(&ci);
  if (!keep) { free(px); return NULL; }
  return px;
}

static int encode(char **a) {
  FILE *in = fopen(a[0], "rb"); if (!in) { perror(a[0]); return 1; }
  int w, h; unsigned char *px = decode(a[0], in, 1, &w, &h); fclose(in); if (!px) return 1;
  int x = atoi(a[2]), y = atoi(a[3]), cw = atoi(a[4]), ch = atoi(a[5]), rows = atoi(a[6]), grey = atoi(a[7]), prog = atoi(a[8]);
  if (x + cw > w || y + ch > h) { fprintf(stderr, "crop outside %dx%d\n", w, h); return 1; }
  FILE *out = fopen(a[1], "wb"); if (!out) { perror(a[1]); return 1; }
  struct jpeg_compress_struct co; struct jpeg_error_mgr je;
  co.err = jpeg_std_error(&je); jpeg_create_compress(&co); jpeg_stdio_dest(&co, out);
  co.image_width = cw; co.image_height = ch; co.input_components = 3; co.in_color_space = JCS_RGB;
  jpeg_set_defaults(&co); jpeg_set_quality(&co, 90, TRUE);
  if (grey) jpeg_set_colorspace(&co, JCS_GRAYSCALE);
  co.restart_in_rows = rows;
  if (prog) jpeg_simple_progression(&co);
  jpeg_start_compress(&co, TRUE);
  while (co.next_scanline < co.image_height) {
    JSAMPROW row = px + ((size_t) (y + co.next_scanline) * w + x) * 3;
    jpeg_write_scanlines(&co, &row, 1);
  }
  jpeg_finish_compress(&co); jpeg_destroy_compress(&co); fclose(out); free(px);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 11 && !strcmp(argv[1], "--encode")) return encode(argv + 2);
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb"); int w, h;
    if (!f) { printf("%s\tmissing\n", argv[i]); continue; }
    decode(argv[i], f, 0, &w, &h); fclose(f);
  }
  return 0;
}
