/*
 * soa.c: the lecture 7 network's batched gradient (8 -> 6 -> 4 -> 1,
 * sigmoid, binary cross-entropy) written by hand as the fastest plain C
 * a careful engineer writes: structure of arrays over a block of rows,
 * every scalar operation a loop over the block, <math.h>'s exp and log,
 * built -O3 -march=native -ffast-math so that the compiler vectorizes the
 * loops, the calls (glibc's libmvec) and the sums over rows.  Not exact
 * (fast math reorders sums and uses other exp and log): the limit the
 * generated exact code is measured against (section 4 of run.sh).
 *
 *   cc -O3 -march=native -ffast-math -DREAL=double -DNAME=soa_d -c soa.c
 */
#include <math.h>

#define SOA_B 64

#define EXP_(T, x) (sizeof(T) == sizeof(float) ? expf((float)(x)) : exp(x))
#define LOG_(T, x) (sizeof(T) == sizeof(float) ? logf((float)(x)) : log(x))

REAL NAME(int n, const REAL *restrict p, const REAL *restrict in, REAL *restrict g);

REAL NAME(int n, const REAL *restrict p, const REAL *restrict in, REAL *restrict g)
{
	typedef REAL T;
	const T *W1 = p, *b1 = p + 48, *W2 = p + 54, *b2 = p + 78, *W3 = p + 82;
	T loss = 0;

	for (int k = 0; k < 87; k++)
		g[k] = 0;
	for (int i0 = 0; i0 < n; i0 += SOA_B) {
		int m = n - i0 < SOA_B ? n - i0 : SOA_B;
		T x[8][SOA_B], y[SOA_B], h1[6][SOA_B], h2[4][SOA_B], q[SOA_B];
		T dz[SOA_B], d2[4][SOA_B], d1[6][SOA_B];
		for (int r = 0; r < m; r++) {
			for (int k = 0; k < 8; k++)
				x[k][r] = in[(i0 + r) * 9 + k];
			y[r] = in[(i0 + r) * 9 + 8];
		}
		for (int i = 0; i < 6; i++)
			for (int r = 0; r < m; r++) {
				T s = b1[i];
				for (int k = 0; k < 8; k++)
					s += W1[i * 8 + k] * x[k][r];
				h1[i][r] = 1 / (1 + EXP_(T, -s));
			}
		for (int i = 0; i < 4; i++)
			for (int r = 0; r < m; r++) {
				T s = b2[i];
				for (int k = 0; k < 6; k++)
					s += W2[i * 6 + k] * h1[k][r];
				h2[i][r] = 1 / (1 + EXP_(T, -s));
			}
		for (int r = 0; r < m; r++) {
			T s = p[86];
			for (int k = 0; k < 4; k++)
				s += W3[k] * h2[k][r];
			q[r] = 1 / (1 + EXP_(T, -s));
		}
		for (int r = 0; r < m; r++) {
			T lp = LOG_(T, q[r]), lq = LOG_(T, 1 - q[r]);
			lp = lp < -100 ? -100 : lp;
			lq = lq < -100 ? -100 : lq;
			loss += (y[r] - 1) * lq - y[r] * lp;
			dz[r] = q[r] - y[r];
		}
		for (int r = 0; r < m; r++)
			g[86] += dz[r];
		for (int k = 0; k < 4; k++) {
			T s = 0;
			for (int r = 0; r < m; r++) {
				s += dz[r] * h2[k][r];
				d2[k][r] = dz[r] * W3[k] * h2[k][r] * (1 - h2[k][r]);
			}
			g[82 + k] += s;
		}
		for (int k = 0; k < 6; k++)
			for (int r = 0; r < m; r++)
				d1[k][r] = 0;
		for (int i = 0; i < 4; i++) {
			T sb = 0;
			for (int r = 0; r < m; r++)
				sb += d2[i][r];
			g[78 + i] += sb;
			for (int k = 0; k < 6; k++) {
				T s = 0;
				for (int r = 0; r < m; r++) {
					s += d2[i][r] * h1[k][r];
					d1[k][r] += d2[i][r] * W2[i * 6 + k];
				}
				g[54 + i * 6 + k] += s;
			}
		}
		for (int i = 0; i < 6; i++) {
			T sb = 0, s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
			for (int r = 0; r < m; r++) {
				T di = d1[i][r] * h1[i][r] * (1 - h1[i][r]);
				sb += di;
				for (int k = 0; k < 8; k++)
					s[k] += di * x[k][r];
			}
			g[48 + i] += sb;
			for (int k = 0; k < 8; k++)
				g[i * 8 + k] += s[k];
		}
	}
	return loss;
}
