package conta.wsss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import conta.image.CamMaps;
import conta.image.RgbImage;
import conta.tensor.Backend;
import conta.tensor.cpu.CpuBackend;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * IR labels of many images at once on a device backend (PseudoStage.irLabels runs images in parallel there too): the
 * backend is entered by one thread at a time (a device stream serves one), and every label map equals the one
 * computed alone. The device is the CPU backend behind a proxy that names itself otherwise and notes any overlap; each
 * call holds it for a millisecond so that unguarded threads would meet.
 */
class IrLabelsDeviceTest {
    @Test
    void deviceTakesTurnsWhileTheCrfsRunSideBySide() {
        int n = 12, h = 30, w = 26;
        Random r = new Random(3);
        RgbImage[] ims = new RgbImage[n];
        CamMaps[] cams = new CamMaps[n];
        for (int i = 0; i < n; i++) {
            byte[] rgb = new byte[3 * h * w];
            r.nextBytes(rgb);
            ims[i] = new RgbImage(h, w, rgb);
            float[] hr = new float[2 * h * w];
            for (int p = 0; p < hr.length; p++) hr[p] = r.nextFloat();
            cams[i] = new CamMaps(new int[]{3, 7}, (h + 3) / 4, (w + 3) / 4, new float[2 * ((h + 3) / 4) * ((w + 3) / 4)], h, w, hr);
        }
        IrLabels.Params p = IrLabels.Params.irnet();
        try (CpuBackend cpu = new CpuBackend()) {
            byte[][] alone = new byte[n][];
            for (int i = 0; i < n; i++) alone[i] = IrLabels.compute(cpu, ims[i], cams[i], p).data();
            AtomicInteger inside = new AtomicInteger(), overlaps = new AtomicInteger(), calls = new AtomicInteger();
            Backend device = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, (px, m, args) -> {
                if (m.getName().equals("name")) return "fake-device";
                if (inside.incrementAndGet() > 1) overlaps.incrementAndGet();
                calls.incrementAndGet();
                try {
                    Thread.sleep(1);
                    return m.invoke(cpu, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                } finally {
                    inside.decrementAndGet();
                }
            });
            byte[][] together = new byte[n][];
            IntStream.range(0, n).parallel().forEach(i -> together[i] = IrLabels.compute(device, ims[i], cams[i], p).data());
            for (int i = 0; i < n; i++) assertArrayEquals(alone[i], together[i], "image " + i);
            assertEquals(0, overlaps.get(), "threads met inside the device backend (" + calls.get() + " calls)");
        }
    }
}
