import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A/B timing of the CPU kernels of two (or more) ferry jars inside one JVM: each jar gets its
 * own class loader, and the jars take turns in every round, so a busy neighbour slows all of
 * them alike instead of whichever ran at the time. Run it with bench/kernel-ab.sh.
 */
public final class KernelAB {

    private KernelAB() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: KernelAB TIMING_DIR JAR[,JAR...] TYPE [TOKENS ROWS COLS THREADS ROUNDS SECONDS]");
            System.exit(2);
        }
        Path timing = Path.of(args[0]);
        String[] jars = args[1].split(",");
        String type = args[2];
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        long rows = args.length > 4 ? Long.parseLong(args[4]) : 768;
        long cols = args.length > 5 ? Long.parseLong(args[5]) : 2048;
        int threads = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        int rounds = args.length > 7 ? Integer.parseInt(args[7]) : 4;
        double seconds = args.length > 8 ? Double.parseDouble(args[8]) : 3;
        Method[] timers = new Method[jars.length];
        for (int i = 0; i < jars.length; i++) {
            // a jar may be a class path: PATCH.jar:ferry.jar runs ferry.jar with a few classes replaced
            String[] path = jars[i].split(":");
            URL[] urls = new URL[path.length + 1];
            urls[0] = timing.toUri().toURL();
            for (int j = 0; j < path.length; j++) {
                urls[j + 1] = Path.of(path[j]).toUri().toURL();
            }
            ClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
            timers[i] = loader.loadClass("KernelTiming").getMethod("bestNsPerMac", String.class, int.class,
                    long.class, long.class, int.class, double.class);
        }
        double[][] ns = new double[jars.length][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < jars.length; i++) {
                ns[i][r] = (double) timers[i].invoke(null, type, tokens, rows, cols, threads, seconds);
            }
        }
        System.out.printf(Locale.ROOT, "%s %dx%d, %d tokens, %d threads: best ns per multiply-add per round%n", type,
                rows, cols, tokens, threads);
        for (int i = 0; i < jars.length; i++) {
            StringBuilder line = new StringBuilder(jars[i]).append(':');
            double best = Double.MAX_VALUE;
            for (double v : ns[i]) {
                line.append(String.format(Locale.ROOT, " %.4f", v));
                best = Math.min(best, v);
            }
            System.out.println(line.append(String.format(Locale.ROOT, "  (best %.4f, %.2fx the first jar)", best,
                    min(ns[0]) / best)));
        }
    }

    private static double min(double[] v) {
        double m = Double.MAX_VALUE;
        for (double x : v) {
            m = Math.min(m, x);
        }
        return m;
    }
}
