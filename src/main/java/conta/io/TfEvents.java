package conta.io;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * TensorBoard event files without TensorFlow: TFRecord framing (little-endian u64 length, masked CRC-32C of the length,
 * payload, masked CRC-32C of the payload) around hand-encoded {@code tensorflow.Event} protobufs carrying scalar
 * {@code Summary} values. Field numbers are those of tensorflow/core/util/event.proto and framework/summary.proto:
 * Event{wall_time=1 double, step=2 int64, file_version=3 string, summary=5, session_log=7}, Summary{value=1},
 * Summary.Value{tag=1 string, simple_value=2 float}, SessionLog{status=1 enum, START=1}. A SessionLog START at step s
 * makes TensorBoard drop the events at steps >= s written before it (how a resumed run replaces the steps it redoes).
 */
public final class TfEvents implements Closeable {
    private final OutputStream out;

    /** A new event file in dir, named as TensorFlow names them so TensorBoard finds it. */
    public static TfEvents create(Path dir, String suffix) throws IOException {
        Files.createDirectories(dir);
        long secs = System.currentTimeMillis() / 1000;
        // TensorBoard reads a folder's files in name order: a padded counter keeps files of the same second in order
        Path f = null;
        for (int i = 0; f == null || Files.exists(f); i++) f = dir.resolve(String.format("events.out.tfevents.%d.conta%s.%04d", secs, suffix, i));
        TfEvents w = new TfEvents(Files.newOutputStream(f, StandardOpenOption.CREATE_NEW));
        w.fileVersion(nowSeconds());
        return w;
    }

    /** The first event of every file: the format version TensorBoard expects. */
    void fileVersion(double wallTime) throws IOException {
        record(event(wallTime, 0, 3, "brain.Event:2".getBytes(StandardCharsets.UTF_8)));
    }

    TfEvents(OutputStream out) { this.out = out; }

    static double nowSeconds() { return System.currentTimeMillis() / 1000.0; }

    /** Scalars of one step (tag -> value) as one Event. */
    public void scalars(long step, double wallTime, Map<String, Double> values) throws IOException {
        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        for (var e : values.entrySet()) {
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            bytesField(v, 1, e.getKey().getBytes(StandardCharsets.UTF_8));
            tag(v, 2, 5);
            v.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(e.getValue().floatValue()).array());
            bytesField(summary, 1, v.toByteArray());
        }
        record(event(wallTime, step, 5, summary.toByteArray()));
    }

    /** SessionLog START at step: TensorBoard then purges events of earlier files at steps >= step (a resumed run). */
    public void sessionStart(long step) throws IOException { sessionStart(step, nowSeconds()); }

    void sessionStart(long step, double wallTime) throws IOException {
        record(event(wallTime, step, 7, new byte[]{8, 1}));
    }

    private static byte[] event(double wall, long step, int field, byte[] payload) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        tag(e, 1, 1);
        e.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(wall).array());
        if (step != 0) { tag(e, 2, 0); varint(e, step); }
        bytesField(e, field, payload);
        return e.toByteArray();
    }

    private void record(byte[] data) throws IOException {
        byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length).array();
        out.write(len);
        out.write(le32(maskedCrc(len, 0, 8)));
        out.write(data);
        out.write(le32(maskedCrc(data, 0, data.length)));
        out.flush();
    }

    /** TFRecord's CRC: CRC-32C rotated right by 15 bits plus a constant (so CRCs of CRCs are not trivial). */
    public static int maskedCrc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        int crc = (int) c.getValue();
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    private static byte[] le32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array(); }

    private static void tag(ByteArrayOutputStream o, int field, int wire) { varint(o, (long) field << 3 | wire); }

    private static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7FL) != 0) { o.write((int) (v & 0x7F) | 0x80); v >>>= 7; }
        o.write((int) v);
    }

    private static void bytesField(ByteArrayOutputStream o, int field, byte[] b) {
        tag(o, field, 2);
        varint(o, b.length);
        o.writeBytes(b);
    }

    @Override public void close() throws IOException { out.close(); }

    // ------------------------------------------------------------------ reading (tests, and a check of our own files)

    /** One decoded event: step, wall time, scalar values by tag, and the session-log status (0 = none). */
    public record Event(long step, double wallTime, Map<String, Float> scalars, String fileVersion, int sessionStatus) { }

    /** Reads every record of an event file, checking both CRCs of each; throws IOException on a corrupt record. */
    public static List<Event> read(Path f) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> out = new ArrayList<>();
        while (b.remaining() > 0) {
            if (b.remaining() < 12) throw new IOException(f + ": truncated record header at byte " + b.position());
            byte[] len = new byte[8];
            b.get(len);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (b.getInt() != maskedCrc(len, 0, 8)) throw new IOException(f + ": bad length CRC at byte " + (b.position() - 12));
            if (n < 0 || n > b.remaining() - 4) throw new IOException(f + ": record of " + n + " bytes runs past the end");
            byte[] data = new byte[(int) n];
            b.get(data);
            if (b.getInt() != maskedCrc(data, 0, data.length)) throw new IOException(f + ": bad data CRC");
            out.add(parseEvent(data));
        }
        return out;
    }

    private static Event parseEvent(byte[] d) throws IOException {
        Proto p = new Proto(d, 0, d.length);
        long step = 0;
        double wall = 0;
        Map<String, Float> scalars = new LinkedHashMap<>();
        String version = null;
        int status = 0;
        while (p.more()) {
            long key = p.varint();
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            switch (field) {
                case 1 -> wall = ByteBuffer.wrap(p.fixed(8)).order(ByteOrder.LITTLE_ENDIAN).getDouble();
                case 2 -> step = p.varint();
                case 3 -> version = new String(p.bytes(), StandardCharsets.UTF_8);
                case 5 -> {
                    Proto s = new Proto(p.bytes());
                    while (s.more()) {
                        long k = s.varint();
                        if (k >>> 3 != 1) { s.skip((int) (k & 7)); continue; }
                        Proto v = new Proto(s.bytes());
                        String tag = null;
                        float val = Float.NaN;
                        while (v.more()) {
                            long vk = v.varint();
                            if (vk >>> 3 == 1) tag = new String(v.bytes(), StandardCharsets.UTF_8);
                            else if (vk >>> 3 == 2) val = ByteBuffer.wrap(v.fixed(4)).order(ByteOrder.LITTLE_ENDIAN).getFloat();
                            else v.skip((int) (vk & 7));
                        }
                        scalars.put(tag, val);
                    }
                }
                case 7 -> {
                    Proto s = new Proto(p.bytes());
                    while (s.more()) {
                        long k = s.varint();
                        if (k >>> 3 == 1) status = (int) s.varint();
                        else s.skip((int) (k & 7));
                    }
                }
                default -> p.skip(wire);
            }
        }
        return new Event(step, wall, scalars, version, status);
    }

    /** The few protobuf wire-format reads the events need. */
    private static final class Proto {
        private final byte[] d;
        private int i;
        private final int end;

        Proto(byte[] d) { this(d, 0, d.length); }

        Proto(byte[] d, int off, int end) { this.d = d; this.i = off; this.end = end; }

        boolean more() { return i < end; }

        long varint() throws IOException {
            long v = 0;
            for (int s = 0; s < 64; s += 7) {
                if (i >= end) throw new IOException("truncated varint");
                int b = d[i++];
                v |= (long) (b & 0x7F) << s;
                if ((b & 0x80) == 0) return v;
            }
            throw new IOException("varint too long");
        }

        byte[] fixed(int n) throws IOException {
            if (i + n > end) throw new IOException("truncated field");
            byte[] b = java.util.Arrays.copyOfRange(d, i, i + n);
            i += n;
            return b;
        }

        byte[] bytes() throws IOException { return fixed((int) varint()); }

        void skip(int wire) throws IOException {
            switch (wire) {
                case 0 -> varint();
                case 1 -> fixed(8);
                case 2 -> bytes();
                case 5 -> fixed(4);
                default -> throw new IOException("unsupported wire type " + wire);
            }
        }
    }
}
