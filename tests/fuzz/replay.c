/*
 * replay.c: a main() for a libFuzzer harness without libFuzzer, so the
 * default test suite (any compiler, no -Dfuzz) runs every committed fuzz
 * input through the harness's own code: seed corpora and regressions.
 *
 *   replay-NAME FILE|DIR...
 *
 * Each file is passed to LLVMFuzzerTestOneInput once, in name order within
 * a directory.  A directory that does not exist is skipped with a note: a
 * harness's regressions directory exists once it has had a finding.  A crash, an abort or a sanitizer report (a leak, under
 * LeakSanitizer) fails the test; anything else the harness accepts.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined by the harnesses that need set-up (fuzz_at.c). */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Runs the harness on the contents of path; 0, or -1 if it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return perror(path), -1;
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, n;
	do {
		if (size == cap && !(data = realloc(data, cap = cap ? 2 * cap : 4096)))
			abort();
		n = fread(data + size, 1, cap - size, f);
		size += n;
	} while (n > 0);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(data);
		return perror(path), -1;
	}
	fprintf(stderr, "%s (%zu bytes)\n", path, size);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file in dir, in name order. */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return perror(dir), -1;
	char **names = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!(names = realloc(names, (n + 1) * sizeof *names)) ||
		    !(names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2)))
			abort();
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		rc |= replay_file(names[i]);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0 && errno == ENOENT)
			fprintf(stderr, "%s: none\n", argv[i]);
		else if (stat(argv[i], &st) != 0)
			rc |= (perror(argv[i]), -1);
		else
			rc |= S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
	}
	return rc ? 1 : 0;
}
