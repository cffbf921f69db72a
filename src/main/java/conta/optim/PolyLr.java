package conta.optim;

/** Polynomial decay: lr(step) = base * (1 - step / maxSteps) ^ power (power 0.9 in IRNet and DeepLab). */
public record PolyLr(float base, long maxSteps, float power) {
    public float at(long step) {
        double frac = Math.min(1.0, (double) step / Math.max(1, maxSteps));
        return (float) (base * Math.pow(1 - frac, power));
    }
}
