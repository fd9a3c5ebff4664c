/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherd's command line, configuration file and secret file: everything that can make the
 * daemon refuse to start before it touches the network. Each failure is one line for the
 * operator in err.
 */
#include "aetherd_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"

/* Writes "<before><what><after>" into err. */
static int
args_fail(char *err, size_t err_size, const char *before, const char *what, const char *after)
{
	(void)snprintf(err, err_size, "%s%s%s", before, what, after);
	return -EINVAL;
}

/* Adds "name=value" to the overrides; value borrowed from argv or built into the args. */
static int
args_add_set(struct node_args *a, const char *assignment, char *err, size_t err_size)
{
	if (a->set_count == NODE_ARGS_SETS_MAX) {
		return args_fail(err, err_size, "too many overrides (at most ", "32", ")");
	}
	a->sets[a->set_count++] = assignment;
	return 0;
}

/* A shortcut option (--node-id 3) becomes the override "node_id=3". */
static int
args_add_shortcut(struct node_args *a, const char *name, const char *value, char *err,
		  size_t err_size)
{
	char *slot;
	int n;

	if (a->shortcut_count == NODE_ARGS_SHORTCUTS_MAX) {
		return args_fail(err, err_size, "", name, " given too often");
	}
	slot = a->shortcuts[a->shortcut_count];
	n = snprintf(slot, NODE_ARGS_SHORTCUT_SIZE, "%s=%s", name, value);
	if (n < 0 || (size_t)n >= NODE_ARGS_SHORTCUT_SIZE) {
		return args_fail(err, err_size, "the value of ", name, " is too long");
	}
	a->shortcut_count++;
	return args_add_set(a, slot, err, err_size);
}

/* Options that take a value: "--opt value" or "--opt=value". */
static const char *
args_value(int argc, char **argv, int *i, const char *opt)
{
	size_t len = strlen(opt);
	const char *arg = argv[*i];

	if (strncmp(arg, opt, len) != 0) {
		return NULL;
	}
	if (arg[len] == '=') {
		return arg + len + 1;
	}
	if (arg[len] != '\0' || *i + 1 >= argc) {
		return NULL;
	}
	*i += 1;
	return argv[*i];
}

static int
args_flag(struct node_args *a, const char *arg)
{
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		a->help = true;
	} else if (strcmp(arg, "--version") == 0) {
		a->version = true;
	} else if (strcmp(arg, "--print-config") == 0) {
		a->print_config = true;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int
args_one(struct node_args *a, int argc, char **argv, int *i, char *err, size_t err_size)
{
	const char *v;

	if (args_flag(a, argv[*i]) == 0) {
		return 0;
	}
	if ((v = args_value(argc, argv, i, "--config")) != NULL) {
		a->config_path = v;
		return 0;
	}
	if ((v = args_value(argc, argv, i, "--set")) != NULL) {
		return args_add_set(a, v, err, err_size);
	}
	if ((v = args_value(argc, argv, i, "--node-id")) != NULL) {
		return args_add_shortcut(a, "node_id", v, err, err_size);
	}
	if ((v = args_value(argc, argv, i, "--socket")) != NULL) {
		return args_add_shortcut(a, "socket_path", v, err, err_size);
	}
	if (strncmp(argv[*i], "--", 2) == 0) {
		return args_fail(err, err_size, "unknown option or missing value: '", argv[*i],
				 "' (see aetherd --help)");
	}
	return args_fail(err, err_size, "unexpected argument '", argv[*i],
			 "' (see aetherd --help)");
}

int
node_args_parse(struct node_args *a, int argc, char **argv, char *err, size_t err_size)
{
	ASSERT(a != NULL && argv != NULL);
	ASSERT(err != NULL && err_size > 0);
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		int rc = args_one(a, argc, argv, &i, err, err_size);

		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* Reads the whole file into a base_alloc buffer (*text, freed by the caller). */
static int
config_read(const char *path, char **text, size_t *size, char *err, size_t err_size)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		(void)snprintf(err, err_size, "cannot open config %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > NODE_CONFIG_TEXT_MAX) {
		(void)snprintf(err, err_size, "config %s is not a regular file of at most %u bytes",
			       path, NODE_CONFIG_TEXT_MAX);
		rc = -EINVAL;
		goto err_close;
	}
	*text = base_alloc((size_t)st.st_size + 1);
	if (*text == NULL) {
		rc = -ENOMEM;
		(void)snprintf(err, err_size, "config %s: out of memory", path);
		goto err_close;
	}
	n = read(fd, *text, (size_t)st.st_size);
	if (n != st.st_size) {
		rc = n < 0 ? -errno : -EIO;
		(void)snprintf(err, err_size, "cannot read config %s: %s", path, strerror(-rc));
		base_free(*text);
		*text = NULL;
		goto err_close;
	}
	*size = (size_t)n;
err_close:
	(void)close(fd);
	return rc;
}

static int
config_fail(const struct node_config_error *e, int rc, char *err, size_t err_size)
{
	(void)snprintf(err, err_size, "%s", e->text);
	return rc;
}

int
node_args_load_config(const struct node_args *a, struct node_config *cfg, char *err,
		      size_t err_size)
{
	struct node_config_error e;
	int rc;

	ASSERT(a != NULL && cfg != NULL);
	node_config_defaults(cfg);
	if (a->config_path != NULL) {
		char *text = NULL;
		size_t size = 0;

		rc = config_read(a->config_path, &text, &size, err, err_size);
		if (rc != 0) {
			return rc;
		}
		rc = node_config_parse(cfg, text, size, a->config_path, &e);
		base_free(text);
		if (rc != 0) {
			return config_fail(&e, rc, err, err_size);
		}
	}
	for (size_t i = 0; i < a->set_count; i++) {
		rc = node_config_set(cfg, a->sets[i], &e);
		if (rc != 0) {
			return config_fail(&e, rc, err, err_size);
		}
	}
	rc = node_config_check(cfg, &e);
	return rc == 0 ? 0 : config_fail(&e, rc, err, err_size);
}

/* Strips one trailing "\n" or "\r\n", so that `echo` and `openssl rand -hex` files work. */
static size_t
secret_trim(const uint8_t *buf, size_t n)
{
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r') {
			n--;
		}
	}
	return n;
}

int
node_secret_load(const char *path, const struct base_log *log, struct node_secret *out, char *err,
		 size_t err_size)
{
	uint8_t buf[NODE_SECRET_MAX + 3];
	struct stat st;
	ssize_t n;
	int fd;

	ASSERT(path != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;

		(void)snprintf(err, err_size, "cannot read secret_file %s: %s", path,
			       strerror(-rc));
		return rc;
	}
	n = read(fd, buf, sizeof(buf));
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
		base_logf(log, BASE_LOG_WARN, "secret_file %s is readable by others (mode %03o)",
			  path, (unsigned)(st.st_mode & 0777));
	}
	(void)close(fd);
	if (n < 0) {
		(void)snprintf(err, err_size, "cannot read secret_file %s: %s", path,
			       strerror(errno));
		return -EIO;
	}
	out->size = secret_trim(buf, (size_t)n);
	if (out->size < NODE_SECRET_MIN || out->size > NODE_SECRET_MAX) {
		(void)snprintf(err, err_size, "secret_file %s must hold %u to %u bytes", path,
			       NODE_SECRET_MIN, NODE_SECRET_MAX);
		return -EINVAL;
	}
	memcpy(out->bytes, buf, out->size);
	return 0;
}

uint32_t
node_lcores_first(const char *lcores)
{
	uint32_t cpu = 0;

	ASSERT(lcores != NULL);
	/* node_config_parse checked the list: it starts with a number of at most 4 digits. */
	for (size_t i = 0; lcores[i] >= '0' && lcores[i] <= '9'; i++) {
		cpu = cpu * 10u + (uint32_t)(lcores[i] - '0');
	}
	ASSERT(cpu <= NODE_CONFIG_CPU_MAX);
	return cpu;
}
