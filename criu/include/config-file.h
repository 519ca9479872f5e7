/*
 * Configuration files in upstream's syntax: one option a line, its long
 * name without the dashes, then its value if it takes one, plain or in
 * double quotes (\" inside quotes is a quote); '#' starts a comment.
 *
 *   tcp-established
 *   verbosity 4
 *   lsm-profile "apparmor:my \"profile\""   # a comment
 *
 * Read, in this order, before the command line: /etc/criu/default.conf,
 * $HOME/.criu/default.conf, $CRIU_CONFIG_FILE; --config FILE replaces the
 * first two; --no-default-config drops them. A missing file is no error, a
 * malformed one is. The RPC's config_file is read after the request's
 * own options.
 */
#ifndef CRIU_CONFIG_FILE_H
#define CRIU_CONFIG_FILE_H

/* Growing argument vector: argv[0..argc) and a NULL after them. */
struct arg_vec {
	char **argv;
	int argc;
};

/*
 * One line: appends "--NAME" and, if given, the value to `out`. 0 (also
 * for a blank or comment line), or -1 with *why set when the line is not
 * in the syntax.
 */
int config_parse_line(const char *line, struct arg_vec *out, const char **why);

/*
 * A whole file, appended to `out`. 0; 1 when the file does not exist (not
 * an error, as upstream); -1 after pr_err giving FILE:LINE and why.
 */
int config_read_file(const char *path, struct arg_vec *out);

void arg_vec_free(struct arg_vec *v);

#endif
