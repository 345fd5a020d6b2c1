// SymmetricEigen: eigenvalues and eigenvectors of a real symmetric matrix in float64 (cyclic
// Jacobi rotations), and the log-determinant that follows from them; for the jacob_cov and
// NASWOT predictors, whose matrices are batch x batch (64 x 64 by default).
package org.bnnas.score;

/**
 * The cyclic Jacobi method: sweeps of plane rotations, each zeroing one off-diagonal element,
 * until the off-diagonal mass is below 1e-15 of the matrix's or 100 sweeps have run (a 64 x 64
 * matrix needs about ten). Its eigenvalues are accurate to a few units in the last place relative
 * to the largest one, which is all a log-determinant or a sum over eigenvalues needs. Written here
 * rather than taken from a library: it is 80 lines, and it keeps the module free of a numerics
 * dependency for two small matrices.
 */
public final class SymmetricEigen {
    private static final int MAX_SWEEPS = 100;

    /** Eigenvalues in ascending order, and the eigenvectors as the columns of {@code vectors} (vectors[row][k] for value k). */
    public record Result(double[] values, double[][] vectors) {}

    private SymmetricEigen() {}

    /** The eigen-decomposition of {@code a} (n x n, symmetric; only its upper triangle is read; left unchanged). */
    public static Result of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][n], v = new double[n][n];
        double norm = 0;
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) throw new IllegalArgumentException("SymmetricEigen: row " + i + " has " + a[i].length + " columns, expected " + n);
            for (int j = 0; j < n; j++) {
                m[i][j] = j >= i ? a[i][j] : a[j][i];
                if (!Double.isFinite(m[i][j])) throw new IllegalArgumentException("SymmetricEigen: element (" + i + ", " + j + ") is " + m[i][j]);
                norm += m[i][j] * m[i][j];
            }
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += 2 * m[i][j] * m[i][j];
            if (off <= 1e-30 * norm || off == 0) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (m[p][q] == 0) continue;
                    rotate(m, v, p, q);
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (x, y) -> Double.compare(m[x][x], m[y][y]));
        double[] values = new double[n];
        double[][] vectors = new double[n][n];
        for (int k = 0; k < n; k++) {
            values[k] = m[order[k]][order[k]];
            for (int r = 0; r < n; r++) vectors[r][k] = v[r][order[k]];
        }
        return new Result(values, vectors);
    }

    /** The rotation in the (p, q) plane that zeroes m[p][q] (the stable form of the angle), applied to m and accumulated into v. */
    private static void rotate(double[][] m, double[][] v, int p, int q) {
        double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) t = 1;
        double c = 1 / Math.sqrt(t * t + 1), s = t * c;
        int n = m.length;
        for (int k = 0; k < n; k++) { // columns p and q
            double mkp = m[k][p], mkq = m[k][q];
            m[k][p] = c * mkp - s * mkq;
            m[k][q] = s * mkp + c * mkq;
        }
        for (int k = 0; k < n; k++) { // rows p and q
            double mpk = m[p][k], mqk = m[q][k];
            m[p][k] = c * mpk - s * mqk;
            m[q][k] = s * mpk + c * mqk;
        }
        m[p][q] = m[q][p] = 0;
        for (int k = 0; k < n; k++) {
            double vkp = v[k][p], vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
        }
    }

    /** log |det a| of a symmetric matrix: the sum of log |eigenvalue|; minus infinity when it is singular to float64 precision. */
    public static double logAbsDet(double[][] a) {
        double sum = 0;
        for (double l : of(a).values()) sum += Math.log(Math.abs(l));
        return sum;
    }
}
