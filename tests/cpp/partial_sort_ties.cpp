// Which candidates std::partial_sort keeps when distances tie (libstdc++), as MatchIt's
// take_closest() uses it for k:1 matching with replacement. Makes
// tests/fixtures/matching/partial_sort_ties.json for tests/test_matching.py:
//   g++ -O2 -o /tmp/ps partial_sort_ties.cpp && /tmp/ps > ../fixtures/matching/partial_sort_ties.json
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

int main() {
  std::mt19937 gen(20240611);
  std::printf("{\"compiler\": \"g++ %d.%d libstdc++\", \"cases\": [\n", __GNUC__, __GNUC_MINOR__);
  for (int c = 0; c < 400; c++) {
    int n = 2 + gen() % 12;
    int k = 1 + gen() % (n - 1);  // k < n: the partial_sort branch
    int levels = 1 + gen() % 4;
    std::vector<double> d(n);
    for (int i = 0; i < n; i++) d[i] = (gen() % levels) * 0.25;
    std::vector<int> ind(n);
    std::iota(ind.begin(), ind.end(), 0);
    std::partial_sort(ind.begin(), ind.begin() + k, ind.end(),
                      [&d](int a, int b) { return d[a] < d[b]; });
    std::printf("%s{\"k\": %d, \"dist\": [", c ? ",\n" : "", k);
    for (int i = 0; i < n; i++) std::printf("%s%g", i ? ", " : "", d[i]);
    std::printf("], \"kept\": [");
    for (int i = 0; i < k; i++) std::printf("%s%d", i ? ", " : "", ind[i]);
    std::printf("]}");
  }
  std::printf("\n]}\n");
  return 0;
}
