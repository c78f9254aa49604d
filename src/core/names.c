/* "Did you mean ...?": the known name nearest a misspelt one, by the
 * optimal-string-alignment distance (Levenshtein's insertions, deletions and
 * substitutions, plus swapping two neighbours: "unist" is one edit from
 * "units"). */
#include <string.h>

#include "nerve.h"

#define NAME_LENGTH_MAX 64

static int edit_distance(const char *a, const char *b)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > NAME_LENGTH_MAX || m > NAME_LENGTH_MAX) return NAME_LENGTH_MAX + 1;
    int d[NAME_LENGTH_MAX + 1][NAME_LENGTH_MAX + 1];
    for (int i = 0; i <= n; i++) d[i][0] = i;
    for (int j = 0; j <= m; j++) d[0][j] = j;
    for (int i = 1; i <= n; i++) {
        for (int j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

const char *nerve_closest_name(const char *word, const char *const *names, int count)
{
    /* No edit in a word of two letters ("lr" is no misspelling of "l1"), one
     * in a short word ("fc9", "unit"), up to a third of a longer one. */
    int len = (int)strlen(word), limit = len <= 2 ? 0 : len <= 4 ? 1 : len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    int best_distance = limit + 1;
    for (int i = 0; (count < 0 || i < count) && names[i]; i++) {
        if (strcmp(word, names[i]) == 0) continue;
        int distance = edit_distance(word, names[i]);
        if (distance < best_distance) {
            best = names[i];
            best_distance = distance;
        }
    }
    return best;
}
