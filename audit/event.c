/* Event helpers shared by every sink: decision names, the --log-events stderr
 * printer and the tee that forwards one event to several sinks. */
#include "audit/event.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "abi/abi.h"
#include "base/macro.h"

const char *jh_decision_name(enum jh_decision d)
{
	static const char *const names[] = {
		[JH_DECISION_PASSED] = "passed",   [JH_DECISION_ALLOWED] = "allowed",
		[JH_DECISION_EMULATED] = "emulated", [JH_DECISION_DENIED] = "denied",
		[JH_DECISION_KILLED] = "killed",
	};
	if ((unsigned)d < JH_ARRAY_SIZE(names) && names[d])
		return names[d];
	return "unknown";
}

/* Appends `text`'s lines to buf, indented below the event, the first one
 * labelled: forensics read as a block under the call they explain. */
static size_t append_block(char *buf, size_t cap, size_t len, const char *label, const char *text)
{
	bool first = true;

	while (text && *text && len < cap) {
		size_t l = strcspn(text, "\n");
		int n = snprintf(buf + len, cap - len, "jhansi:     %-6s %.*s\n", first ? label : "",
				 (int)l, text);
		if (n < 0)
			break;
		len = JH_MIN(len + (size_t)n, cap);
		text += l;
		if (*text == '\n')
			text++;
		first = false;
	}
	return len;
}

static void stderr_emit(void *ctx, const struct jh_event *ev)
{
	int fd = *(int *)ctx;
	char res[96];
	char line[2048];
	int n;

	if (ev->stack || ev->disasm) {
		/* One write per event, so that events of several threads do not
		 * interleave. */
		char block[12288];
		size_t len = 0;

		if (ev->decision == JH_DECISION_KILLED)
			snprintf(res, sizeof(res), "?");
		else
			jh_abi_format_result(res, sizeof(res), ev->result, ev->err);
		n = snprintf(block, sizeof(block), "jhansi: [%d] %-8s %s(%s) = %s%s%s\n",
			     (int)ev->tid, jh_decision_name(ev->decision),
			     ev->syscall ? ev->syscall : "?", ev->args ? ev->args : "", res,
			     ev->detail ? "  # " : "", ev->detail ? ev->detail : "");
		if (n < 0)
			return;
		len = JH_MIN((size_t)n, sizeof(block) - 1);
		len = append_block(block, sizeof(block) - 1, len, "stack", ev->stack);
		len = append_block(block, sizeof(block) - 1, len, "code", ev->disasm);
		if (len >= sizeof(block) - 1)
			block[(len = sizeof(block) - 1) - 1] = '\n';
		(void)!write(fd, block, len);
		return;
	}

	if (ev->decision == JH_DECISION_KILLED)
		snprintf(res, sizeof(res), "?");
	else
		jh_abi_format_result(res, sizeof(res), ev->result, ev->err);
	n = snprintf(line, sizeof(line), "jhansi: [%d] %-8s %s(%s) = %s%s%s\n", (int)ev->tid,
		     jh_decision_name(ev->decision), ev->syscall ? ev->syscall : "?",
		     ev->args ? ev->args : "", res, ev->detail ? "  # " : "",
		     ev->detail ? ev->detail : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(fd, line, (size_t)n);
}

static const struct jh_sink_ops stderr_ops = {.emit = stderr_emit};

void jh_sink_stderr_init(struct jh_sink *ret, int *fd_ctx)
{
	ret->ops = &stderr_ops;
	ret->ctx = fd_ctx;
}

static void tee_emit(void *ctx, const struct jh_event *ev)
{
	struct jh_sink_tee *tee = ctx;

	for (unsigned i = 0; i < tee->n && i < JH_ARRAY_SIZE(tee->to); i++)
		jh_sink_emit(&tee->to[i], ev);
}

static const struct jh_sink_ops tee_ops = {.emit = tee_emit};

void jh_sink_tee_init(struct jh_sink *ret, struct jh_sink_tee *tee)
{
	ret->ops = &tee_ops;
	ret->ctx = tee;
}
