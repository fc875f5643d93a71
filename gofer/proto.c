/* The gofer protocol's frames, in msgpack (msgpack-c).
 *
 * request: [op, entry, entry2, name, name2, a, b, c, blob]
 * reply:   [err, value, blob]
 *
 * Pure encoding and decoding. The decoder takes bytes from the other side of a
 * trust boundary (either way), so it checks every type and bound and answers
 * -EBADMSG rather than trusting a length. */
#include "gofer/gofer.h"

#include <errno.h>
#include <msgpack.h>
#include <stdbool.h>
#include <string.h>

#include "base/macro.h"

struct fixbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static int fixbuf_write(void *data, const char *buf, size_t len)
{
	struct fixbuf *b = data;

	if (b->len + len > b->cap) {
		b->overflow = true;
		return -1;
	}
	if (len == 0)
		return 0; /* buf may be NULL (an empty string) */
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

int jh_gofer_req_encode(const struct jh_gofer_req *q, void *buf, size_t cap)
{
	struct fixbuf b = {.p = buf, .cap = cap};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, fixbuf_write);
	msgpack_pack_array(&pk, 9);
	msgpack_pack_uint32(&pk, q->op);
	msgpack_pack_int32(&pk, q->entry);
	msgpack_pack_int32(&pk, q->entry2);
	pack_str(&pk, q->name);
	pack_str(&pk, q->name2);
	msgpack_pack_int64(&pk, q->a);
	msgpack_pack_int64(&pk, q->b);
	msgpack_pack_int64(&pk, q->c);
	msgpack_pack_bin(&pk, q->bloblen);
	msgpack_pack_bin_body(&pk, q->blob, q->bloblen);
	return b.overflow ? -EMSGSIZE : (int)b.len;
}

static bool get_int(const msgpack_object *o, int64_t *ret)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > INT64_MAX)
			return false;
		*ret = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*ret = o->via.i64;
		return true;
	}
	return false;
}

static bool get_str(const msgpack_object *o, char *dst, size_t cap)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap)
		return false;
	if (o->via.str.size == 0) { /* ptr may be NULL */
		dst[0] = '\0';
		return true;
	}
	if (memchr(o->via.str.ptr, '\0', o->via.str.size))
		return false;
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = '\0';
	return true;
}

/* Walks a msgpack buffer without allocating and checks that every array and
 * map announces no more elements than bytes remain (each element takes at
 * least one), and that nesting stays shallow. msgpack-c's unpacker allocates
 * for the announced count before reading it: a 5-byte frame announcing 2^32
 * elements would ask for 64 GiB. Returns 0 if the buffer is plausible. */
static int msgpack_precheck(const unsigned char *p, size_t len)
{
	size_t pending[16]; /* elements still expected at each open level */
	int depth = 0;
	size_t i = 0;

	pending[0] = 1; /* one top-level object */
	while (i < len) {
		unsigned char b = p[i++];
		uint64_t n = 0, skip = 0;
		bool container = false;
		size_t need;

		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
			; /* fixint, nil, bool */
		else if ((b & 0xe0) == 0xa0)
			skip = b & 0x1f; /* fixstr */
		else if ((b & 0xf0) == 0x90)
			n = b & 0x0f, container = true; /* fixarray */
		else if ((b & 0xf0) == 0x80)
			n = 2 * (uint64_t)(b & 0x0f), container = true; /* fixmap */
		else {
			static const signed char width[32] = {
				/* payload bytes of fixed-size types (0 for those with
				 * a length prefix, read below); 0xc1 is never used */
				/* 0xc0 */ 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 1, 2, 4, 8,
				/* 0xd0 */ 1, 2, 4, 8, 2, 3, 5, 9, 17, 0, 0, 0, 0, 0, 0, 0,
			};
			/* 0xc4-c6 bin, c7-c9 ext, d9-db str: a length then bytes;
			 * dc-dd array, de-df map: a count; others: fixed payloads */
			size_t lw;
			if (b < 0xc0 || width[b - 0xc0] < 0)
				return -EBADMSG;
			if ((b >= 0xc4 && b <= 0xc6) || (b >= 0xd9 && b <= 0xdb) ||
			    (b >= 0xc7 && b <= 0xc9) || b >= 0xdc) {
				lw = b == 0xc4 || b == 0xc7 || b == 0xd9 ? 1
				     : b == 0xc5 || b == 0xc8 || b == 0xda || b == 0xdc || b == 0xde ? 2
												 : 4;
				if (len - i < lw)
					return -EBADMSG;
				for (size_t k = 0; k < lw; k++)
					n = n << 8 | p[i + k];
				i += lw;
				if (b >= 0xdc) {
					container = true;
					if (b >= 0xde)
						n *= 2;
				} else {
					skip = n + (b >= 0xc7 && b <= 0xc9 ? 1 : 0); /* ext: type byte */
					n = 0;
				}
			} else
				skip = (uint64_t)width[b - 0xc0];
		}
		if (skip > len - i)
			return -EBADMSG;
		i += (size_t)skip;
		if (pending[depth] == 0)
			return -EBADMSG; /* trailing data after the top-level object */
		pending[depth]--;
		if (container && n > 0) {
			need = (size_t)n;
			if (n > len - i || depth + 1 >= (int)JH_ARRAY_SIZE(pending))
				return -EBADMSG;
			pending[++depth] = need;
		}
		while (depth > 0 && pending[depth] == 0)
			depth--;
	}
	return depth == 0 && pending[0] == 0 ? 0 : -EBADMSG;
}

int jh_gofer_req_decode(const void *buf, size_t len, struct jh_gofer_req *ret)
{
	msgpack_unpacked u;
	msgpack_unpack_return ur;
	const msgpack_object *a;
	int64_t op, e1, e2;
	int r = -EBADMSG;

	if (len > JH_GOFER_MAX_FRAME || msgpack_precheck(buf, len) < 0)
		return -EBADMSG;
	msgpack_unpacked_init(&u);
	ur = msgpack_unpack_next(&u, buf, len, NULL);
	if (ur != MSGPACK_UNPACK_SUCCESS || u.data.type != MSGPACK_OBJECT_ARRAY ||
	    u.data.via.array.size != 9)
		goto out;
	a = u.data.via.array.ptr;
	if (!get_int(&a[0], &op) || op <= 0 || op >= JH_GOFER_OP_MAX)
		goto out;
	if (!get_int(&a[1], &e1) || !get_int(&a[2], &e2) || e1 < -1 || e1 > 100000 || e2 < -1 ||
	    e2 > 100000)
		goto out;
	ret->op = (uint32_t)op;
	ret->entry = (int32_t)e1;
	ret->entry2 = (int32_t)e2;
	if (!get_str(&a[3], ret->name, sizeof(ret->name)) ||
	    !get_str(&a[4], ret->name2, sizeof(ret->name2)))
		goto out;
	if (!get_int(&a[5], &ret->a) || !get_int(&a[6], &ret->b) || !get_int(&a[7], &ret->c))
		goto out;
	if (a[8].type != MSGPACK_OBJECT_BIN || a[8].via.bin.size > sizeof(ret->blob))
		goto out;
	memcpy(ret->blob, a[8].via.bin.ptr, a[8].via.bin.size);
	ret->bloblen = a[8].via.bin.size;
	r = 0;
out:
	msgpack_unpacked_destroy(&u);
	return r;
}

int jh_gofer_rep_encode(int32_t err, int64_t value, const void *blob, size_t bloblen, void *buf,
			size_t cap)
{
	struct fixbuf b = {.p = buf, .cap = cap};
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, fixbuf_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int32(&pk, err);
	msgpack_pack_int64(&pk, value);
	msgpack_pack_bin(&pk, bloblen);
	msgpack_pack_bin_body(&pk, blob, bloblen);
	return b.overflow ? -EMSGSIZE : (int)b.len;
}

int jh_gofer_rep_decode(const void *buf, size_t len, int32_t *ret_err, int64_t *ret_value,
			const void **ret_blob, size_t *ret_bloblen)
{
	/* Parsed in place: offsets into buf are stable, unlike msgpack_unpacked's zone. */
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;
	int64_t err, val;
	int r = -EBADMSG;

	if (len > JH_GOFER_MAX_FRAME || msgpack_precheck(buf, len) < 0)
		return -EBADMSG;
	if (!msgpack_zone_init(&z, 256))
		return -ENOMEM;
	if (msgpack_unpack(buf, len, &off, &z, &o) != MSGPACK_UNPACK_SUCCESS ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 3)
		goto out;
	if (!get_int(&o.via.array.ptr[0], &err) || err < 0 || err > 4095 ||
	    !get_int(&o.via.array.ptr[1], &val) || o.via.array.ptr[2].type != MSGPACK_OBJECT_BIN)
		goto out;
	*ret_err = (int32_t)err;
	*ret_value = val;
	/* bin bodies are referenced in place by msgpack_unpack (not copied). */
	*ret_blob = o.via.array.ptr[2].via.bin.ptr;
	*ret_bloblen = o.via.array.ptr[2].via.bin.size;
	r = 0;
out:
	msgpack_zone_destroy(&z);
	return r;
}
