package conta.image;

/**
 * Walks the Huffman-coded scans of a sequential or progressive JPEG (SOF0/SOF1/SOF2) without decoding pixels, to find the corruption libjpeg
 * only warns about on stderr (without naming the file) and then decodes into garbled blocks: a bad Huffman code, scan data
 * that ends before the last block, restart markers out of order, or more than {@link #RESTART_SLACK} bytes left over
 * before a restart marker. It reads
 * codes bit by bit as libjpeg's slow path does (0xFF00 is a data 0xFF, 0xFF fill bytes are skipped, any other marker ends
 * the data), so it flags what libjpeg flags. Bytes left over at the end of the last scan are flagged only beyond
 * {@link #TRAILING_SLACK}: a few are common in camera files that decode whole, and libjpeg's own bit buffer swallows up to
 * eight of them unremarked. Progressive scans are walked as libjpeg's jdphuff.c reads them (DC first and refinement,
 * AC first with end-of-band runs, AC refinement with its correction bits, which needs each block's nonzero history
 * from the earlier scans). Lossless, hierarchical and arithmetic-coded files are not walked.
 */
final class JpegScan {
    private JpegScan() { }

    /** Bytes after the last block of the last scan that still count as an encoder's padding, not as corruption. */
    static final int TRAILING_SLACK = 64;

    /**
     * Bytes before a restart marker that still count as padding: libjpeg's bit buffer reads up to 7 bytes ahead and drops
     * them at the marker without a warning (a file with 1-5 zero bytes before its RST markers decodes silently and
     * pixel-identically), and resynchronises at the marker, so such a file is intact.
     */
    static final int RESTART_SLACK = 7;

    /** What the walk found: walked is false where the file's coding is not walked here (problem then null). */
    record Result(boolean walked, String problem) { }

    private static final class Corrupt extends Exception {
        Corrupt(String m) { super(m, null, false, false); }
    }

    /** One Huffman table in canonical form (ITU T.81 F.2.2.3). */
    private static final class Huff {
        final int[] maxcode = new int[18], valptr = new int[17], mincode = new int[17];
        final int[] vals;

        Huff(int[] counts, int[] vals) {
            this.vals = vals;
            int code = 0, k = 0;
            for (int l = 1; l <= 16; l++) {
                valptr[l] = k;
                mincode[l] = code;
                code += counts[l - 1];
                k += counts[l - 1];
                maxcode[l] = counts[l - 1] == 0 ? -1 : code - 1;
                code <<= 1;
            }
            maxcode[17] = Integer.MAX_VALUE;
            for (int l = 1, v = 0; l <= LOOKAHEAD; l++) // every LOOKAHEAD-bit word that starts with a code of length l
                for (int c = 0; c < counts[l - 1]; c++, v++) {
                    int first = (mincode[l] + c) << (LOOKAHEAD - l);
                    for (int w = 0; w < 1 << (LOOKAHEAD - l); w++) fast[first + w] = l << 8 | vals[v];
                }
        }

        /** Length << 8 | symbol of the code a LOOKAHEAD-bit word starts with; 0 for a longer (or no) code. */
        final int[] fast = new int[1 << LOOKAHEAD];
    }

    private static final int LOOKAHEAD = 9;

    /** A component of the frame: sampling factors and the tables its scan uses. */
    private record Comp(int id, int h, int v) { }

    public static Result check(byte[] b) {
        try {
            return walk(b);
        } catch (Corrupt e) {
            return new Result(true, e.getMessage());
        } catch (ArrayIndexOutOfBoundsException e) { // a segment length past the end: OpenCV names that problem
            return new Result(false, null);
        }
    }

    private static Result walk(byte[] b) throws Corrupt {
        Huff[] dc = new Huff[4], ac = new Huff[4];
        Comp[] comps = null;
        int width = 0, height = 0, hmax = 1, vmax = 1, restart = 0, scans = 0;
        boolean progressive = false;
        long[][] nonzero = null; // progressive: per component, per block of its own grid, the AC coefficients (zigzag bits) set so far
        int i = 2;
        while (i + 1 < b.length) {
            if ((b[i] & 0xFF) != 0xFF) return new Result(scans > 0, null); // not a marker where one must be: OpenCV's to judge
            int m = b[i + 1] & 0xFF;
            if (m == 0xFF) { i++; continue; }
            if (m == 0xD9) break;
            if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
            int len = u16(b, i + 2), seg = i + 4, end = i + 2 + len;
            if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
                progressive = m == 0xC2;
                height = u16(b, seg + 1);
                width = u16(b, seg + 3);
                int nf = b[seg + 5] & 0xFF;
                if (height == 0 || nf == 0) return new Result(false, null); // height from a DNL marker: not walked
                comps = new Comp[nf];
                for (int c = 0; c < nf; c++) {
                    int o = seg + 6 + 3 * c, hv = b[o + 1] & 0xFF;
                    comps[c] = new Comp(b[o] & 0xFF, Math.max(1, hv >> 4), Math.max(1, hv & 15));
                    hmax = Math.max(hmax, comps[c].h());
                    vmax = Math.max(vmax, comps[c].v());
                }
            } else if (m >= 0xC3 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                return new Result(false, null); // lossless, hierarchical or arithmetic coding
            } else if (m == 0xC4) {
                for (int o = seg; o < end; ) {
                    int tc = (b[o] & 0xFF) >> 4, th = b[o] & 3;
                    int[] counts = new int[16];
                    int n = 0;
                    for (int l = 0; l < 16; l++) n += counts[l] = b[o + 1 + l] & 0xFF;
                    int[] vals = new int[n];
                    for (int k = 0; k < n; k++) vals[k] = b[o + 17 + k] & 0xFF;
                    (tc == 0 ? dc : ac)[th] = new Huff(counts, vals);
                    o += 17 + n;
                }
            } else if (m == 0xDD) {
                restart = u16(b, seg);
            } else if (m == 0xDA) {
                if (comps == null) return new Result(false, null);
                int ns = b[seg] & 0xFF;
                Comp[] sc = new Comp[ns];
                Huff[] sdc = new Huff[ns], sac = new Huff[ns];
                for (int k = 0; k < ns; k++) {
                    int id = b[seg + 1 + 2 * k] & 0xFF, t = b[seg + 2 + 2 * k] & 0xFF;
                    for (Comp c : comps) if (c.id() == id) sc[k] = c;
                    sdc[k] = dc[t >> 4 & 3];
                    sac[k] = ac[t & 3];
                }
                int o = seg + 1 + 2 * ns, ss = b[o] & 0xFF, se = b[o + 1] & 0xFF, ah = (b[o + 2] & 0xFF) >> 4;
                Kind kind = !progressive ? Kind.SEQUENTIAL : ss == 0 ? (ah == 0 ? Kind.DC_FIRST : Kind.DC_REFINE) : ah == 0 ? Kind.AC_FIRST : Kind.AC_REFINE;
                if (progressive && (ss > se || se > 63 || (ss == 0) != (se == 0) || (ss > 0 && ns != 1)))
                    return new Result(false, null); // bad progression parameters: libjpeg stops with an error of its own
                for (int k = 0; k < ns; k++)
                    if (sc[k] == null || (kind.dc() && sdc[k] == null) || (kind.ac() && sac[k] == null))
                        return new Result(false, null); // libjpeg's to judge (or its default tables, Motion JPEG)
                long[] nz = null;
                if (kind == Kind.AC_FIRST || kind == Kind.AC_REFINE) {
                    if (nonzero == null) nonzero = new long[comps.length][];
                    int c = java.util.Arrays.asList(comps).indexOf(sc[0]);
                    if (nonzero[c] == null) nonzero[c] = new long[ownBlocks(width, sc[0].h(), hmax) * ownBlocks(height, sc[0].v(), vmax)];
                    nz = nonzero[c];
                }
                scans++;
                i = scan(b, end, sc, sdc, sac, width, height, hmax, vmax, restart, new Band(kind, ss, se, nz));
                continue;
            }
            i = end;
        }
        return new Result(scans > 0, null);
    }

    /** Walks one scan from its first data byte; returns the position of the marker that ends it. */
    private static int scan(byte[] b, int start, Comp[] sc, Huff[] dc, Huff[] ac, int width, int height, int hmax, int vmax,
                            int restart, Band band) throws Corrupt {
        int mcusX, mcusY;
        int[] blocks = new int[sc.length];
        if (sc.length == 1) { // non-interleaved: one block per MCU over the component's own size
            mcusX = ownBlocks(width, sc[0].h(), hmax);
            mcusY = ownBlocks(height, sc[0].v(), vmax);
            blocks[0] = 1;
        } else {
            mcusX = ceilDiv(width, 8 * hmax);
            mcusY = ceilDiv(height, 8 * vmax);
            for (int k = 0; k < sc.length; k++) blocks[k] = sc[k].h() * sc[k].v();
        }
        long total = (long) mcusX * mcusY;
        Bits in = new Bits(b, start);
        int rst = 0;
        for (long mcu = 0; mcu < total; mcu++) {
            if (restart > 0 && mcu > 0 && mcu % restart == 0) {
                int left = in.leftBeforeMarker();
                if (left > RESTART_SLACK) throw corrupt(b, in.pos, left + " bytes of scan data are left over before a restart marker, "
                        + "in MCU row " + (mcu / mcusX + 1) + " of " + mcusY);
                int marker = b[in.pos + 1] & 0xFF;
                if (marker != 0xD0 + rst) throw corrupt(b, in.pos, "marker 0x" + Integer.toHexString(marker) + " where restart marker RST"
                        + rst + " belongs, in MCU row " + (mcu / mcusX + 1) + " of " + mcusY);
                rst = (rst + 1) & 7;
                in = new Bits(b, in.pos + 2);
                band.eobrun = 0; // libjpeg's process_restart
            }
            for (int k = 0; k < sc.length; k++)
                for (int n = 0; n < blocks[k]; n++)
                    switch (band.kind) {
                        case SEQUENTIAL -> block(in, dc[k], ac[k], mcu, mcusX, mcusY);
                        case DC_FIRST -> in.skip(decode(in, dc[k], mcu, mcusX, mcusY), mcu, mcusX, mcusY);
                        case DC_REFINE -> in.skip(1, mcu, mcusX, mcusY);
                        case AC_FIRST -> acFirst(in, ac[k], band, (int) mcu, mcusX, mcusY);
                        case AC_REFINE -> acRefine(in, ac[k], band, (int) mcu, mcusX, mcusY);
                    }
        }
        int left = in.leftBeforeMarker();
        if (left > TRAILING_SLACK) throw corrupt(b, in.pos, left + " bytes of scan data are left over after its last block (the data lost its"
                + " place in a corrupt stretch, or junk sits before the end marker)");
        return in.pos;
    }

    private static void block(Bits in, Huff dc, Huff ac, long mcu, int mcusX, int mcusY) throws Corrupt {
        in.skip(decode(in, dc, mcu, mcusX, mcusY), mcu, mcusX, mcusY);
        for (int k = 1; k < 64; k++) {
            int rs = decode(in, ac, mcu, mcusX, mcusY), r = rs >> 4, s = rs & 15;
            if (s != 0) {
                k += r;
                in.skip(s, mcu, mcusX, mcusY);
            } else if (r == 15) {
                k += 15;
            } else break; // end of block
        }
    }

    /** A progressive scan's kind, its spectral band and end-of-band run, and the component's nonzero history (AC scans). */
    private enum Kind {
        SEQUENTIAL, DC_FIRST, DC_REFINE, AC_FIRST, AC_REFINE;

        boolean dc() { return this == SEQUENTIAL || this == DC_FIRST; }

        boolean ac() { return this == SEQUENTIAL || this == AC_FIRST || this == AC_REFINE; }
    }

    private static final class Band {
        final Kind kind;
        final int ss, se;
        final long[] nonzero;
        int eobrun;

        Band(Kind kind, int ss, int se, long[] nonzero) {
            this.kind = kind;
            this.ss = ss;
            this.se = se;
            this.nonzero = nonzero;
        }
    }

    /** An AC first scan's block (jdphuff.c decode_mcu_AC_first): coefficients ss..se, or one block of an end-of-band run. */
    private static void acFirst(Bits in, Huff ac, Band band, int blk, int mcusX, int mcusY) throws Corrupt {
        if (band.eobrun > 0) {
            band.eobrun--;
            return;
        }
        for (int k = band.ss; k <= band.se; k++) {
            int rs = decode(in, ac, blk, mcusX, mcusY), r = rs >> 4, s = rs & 15;
            if (s != 0) {
                k += r;
                in.skip(s, blk, mcusX, mcusY);
                if (k < 64) band.nonzero[blk] |= 1L << k;
            } else if (r == 15) {
                k += 15;
            } else {
                band.eobrun = (1 << r) - 1 + (r > 0 ? in.bits(r, blk, mcusX, mcusY) : 0);
                break;
            }
        }
    }

    /**
     * An AC refinement scan's block (jdphuff.c decode_mcu_AC_refine): a correction bit for every coefficient already
     * nonzero, new coefficients of magnitude 1 placed by zero runs over the ones still zero (any other magnitude is
     * libjpeg's "bad Huffman code").
     */
    private static void acRefine(Bits in, Huff ac, Band band, int blk, int mcusX, int mcusY) throws Corrupt {
        long nz = band.nonzero[blk];
        int k = band.ss;
        if (band.eobrun == 0) {
            for (; k <= band.se; k++) {
                int rs = decode(in, ac, blk, mcusX, mcusY), r = rs >> 4, s = rs & 15;
                if (s != 0) {
                    if (s != 1) throw corrupt(in.b, in.pos, "a bad Huffman code (a refinement of magnitude " + s + ") in MCU row "
                            + (blk / mcusX + 1) + " of " + mcusY);
                    in.skip(1, blk, mcusX, mcusY); // the new coefficient's sign
                } else if (r != 15) {
                    band.eobrun = (1 << r) + (r > 0 ? in.bits(r, blk, mcusX, mcusY) : 0);
                    break;
                }
                do { // past the coefficients already nonzero (a correction bit each) and r of the zero ones
                    if ((nz >>> k & 1) != 0) in.skip(1, blk, mcusX, mcusY);
                    else if (--r < 0) break;
                    k++;
                } while (k <= band.se);
                if (s != 0 && k < 64) nz |= 1L << k;
            }
        }
        if (band.eobrun > 0) {
            for (; k <= band.se; k++) if ((nz >>> k & 1) != 0) in.skip(1, blk, mcusX, mcusY);
            band.eobrun--;
        }
        band.nonzero[blk] = nz;
    }

    private static int decode(Bits in, Huff h, long mcu, int mcusX, int mcusY) throws Corrupt {
        int f = h.fast[in.peek(LOOKAHEAD)];
        if (f != 0) {
            in.skip(f >> 8, mcu, mcusX, mcusY);
            return f & 0xFF;
        }
        for (int l = LOOKAHEAD + 1; l <= 16; l++) { // no code of up to LOOKAHEAD bits: the longer ones
            int code = in.peek(l);
            if (code <= h.maxcode[l]) {
                in.skip(l, mcu, mcusX, mcusY);
                return h.vals[h.valptr[l] + code - h.mincode[l]];
            }
        }
        throw corrupt(in.b, in.pos, "a bad Huffman code in MCU row " + (mcu / mcusX + 1) + " of " + mcusY);
    }

    /**
     * The scan's entropy-coded bits, as libjpeg reads them: 0xFF00 is a data 0xFF, 0xFF fill bytes are skipped, any other
     * marker ends the data. Bytes are read ahead into a 64-bit buffer; past a marker, peeks see zeros and a skip fails.
     */
    private static final class Bits {
        final byte[] b;
        int pos;        // the next byte not yet in the buffer; at the marker once one is reached
        long buf;       // the next n bits, right-aligned
        int n;
        boolean marker; // the data ended at a marker (or at the end of the file) at pos

        Bits(byte[] b, int pos) { this.b = b; this.pos = pos; }

        private void fill() {
            while (n <= 56 && !marker) {
                if (pos >= b.length) { marker = true; return; }
                int c = b[pos] & 0xFF;
                if (c == 0xFF) {
                    int j = pos + 1;
                    while (j < b.length && (b[j] & 0xFF) == 0xFF) j++; // fill bytes
                    if (j >= b.length || b[j] != 0) { pos = j - 1; marker = true; return; }
                    pos = j + 1;
                } else pos++;
                buf = buf << 8 | c;
                n += 8;
            }
        }

        /** The next k (<= 16) bits, zeros past the end of the data. */
        int peek(int k) {
            if (n < k) fill();
            return (int) (n >= k ? buf >>> (n - k) : buf << (k - n)) & ((1 << k) - 1);
        }

        /** The next k (<= 16) bits as a number, consumed. */
        int bits(int k, long mcu, int mcusX, int mcusY) throws Corrupt {
            int v = peek(k);
            skip(k, mcu, mcusX, mcusY);
            return v;
        }

        void skip(int k, long mcu, int mcusX, int mcusY) throws Corrupt {
            if (n < k) fill();
            if (n < k) throw corrupt(b, pos, "the scan data ends" + (pos < b.length ? " (a marker)" : "") + " in MCU row "
                    + (mcu / mcusX + 1) + " of " + mcusY);
            n -= k;
            buf &= n == 0 ? 0 : -1L >>> (64 - n);
        }

        /** Drops the bits of the current byte and counts the data bytes up to the next marker, leaving pos at it. */
        int leftBeforeMarker() {
            int count = n / 8; // whole bytes read ahead but not used
            n = 0;
            buf = 0;
            while (!marker) {
                fill();
                count += n / 8;
                n = 0;
                buf = 0;
            }
            return count;
        }
    }

    private static Corrupt corrupt(byte[] b, int pos, String what) {
        return new Corrupt("corrupt JPEG data: " + what + " (near byte " + pos + " of " + b.length + ")");
    }

    private static int u16(byte[] b, int o) { return (b[o] & 0xFF) << 8 | (b[o + 1] & 0xFF); }

    private static int ceilDiv(int a, int d) { return (a + d - 1) / d; }

    /** A component's blocks along one side of the image: its own samples (size scaled by factor / max), in 8s. */
    private static int ownBlocks(int size, int factor, int max) { return ceilDiv(ceilDiv(size * factor, max), 8); }
}
