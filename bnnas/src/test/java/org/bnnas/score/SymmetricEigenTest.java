// SymmetricEigenTest: eigenvalues of matrices whose eigenvalues are known, the decomposition
// rebuilding the matrix, and the log-determinant against a Cholesky factorisation.
package org.bnnas.score;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {
    @Test
    void knownEigenvalues() {
        assertArrayEquals(new double[] {-2, 0.5, 3}, SymmetricEigen.of(new double[][] {{3, 0, 0}, {0, -2, 0}, {0, 0, 0.5}}).values(), 0);
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3
        assertArrayEquals(new double[] {1, 3}, SymmetricEigen.of(new double[][] {{2, 1}, {1, 2}}).values(), 1e-15);
        // the n x n matrix of ones: n once, 0 n - 1 times
        double[][] ones = new double[5][5];
        for (double[] r : ones) java.util.Arrays.fill(r, 1);
        assertArrayEquals(new double[] {0, 0, 0, 0, 5}, SymmetricEigen.of(ones).values(), 1e-14);
    }

    @Test
    void theDecompositionRebuildsTheMatrixWithOrthonormalVectors() {
        int n = 64;
        double[][] a = randomSymmetric(n, new Random(7));
        SymmetricEigen.Result r = SymmetricEigen.of(a);
        double scale = 0;
        for (double[] row : a) for (double v : row) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double rebuilt = 0, dot = 0;
                for (int k = 0; k < n; k++) {
                    rebuilt += r.vectors()[i][k] * r.values()[k] * r.vectors()[j][k];
                    dot += r.vectors()[k][i] * r.vectors()[k][j];
                }
                assertEquals(a[i][j], rebuilt, 1e-12 * n * scale, "V diag(values) V^T at (" + i + ", " + j + ")");
                assertEquals(i == j ? 1 : 0, dot, 1e-12, "V^T V at (" + i + ", " + j + ")");
            }
        }
        for (int k = 1; k < n; k++) assertEquals(true, r.values()[k - 1] <= r.values()[k], "ascending");
    }

    @Test
    void theLogDeterminantAgreesWithCholesky() {
        int n = 40;
        Random rng = new Random(3);
        double[][] b = new double[n][n], a = new double[n][n];
        for (double[] row : b) for (int j = 0; j < n; j++) row[j] = rng.nextGaussian();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int k = 0; k < n; k++) a[i][j] += b[i][k] * b[j][k]; // B B^T: positive definite
        double cholesky = 0;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) s -= l[i][k] * l[j][k];
                l[i][j] = i == j ? Math.sqrt(s) : s / l[j][j];
            }
            cholesky += 2 * Math.log(l[i][i]);
        }
        assertEquals(cholesky, SymmetricEigen.logAbsDet(a), 1e-9 * Math.abs(cholesky));
        assertEquals(Double.NEGATIVE_INFINITY, SymmetricEigen.logAbsDet(new double[][] {{0, 0}, {0, 1}}), "singular");
    }

    @Test
    void refusesWhatIsNotASquareFiniteMatrix() {
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}}));
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, Double.NaN}, {Double.NaN, 1}}));
    }

    private static double[][] randomSymmetric(int n, Random rng) {
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = i; j < n; j++) a[i][j] = a[j][i] = rng.nextGaussian();
        return a;
    }
}
