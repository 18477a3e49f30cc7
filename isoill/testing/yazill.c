/*
 * yazill: YAZ's ISO 10161 ILL codec (libyaz, ODR) as a small command, so that isoill's
 * tests can check interoperability with YAZ in both directions and its benchmarks can
 * time YAZ on the same APDUs. isoill.testing.yaz compiles it against libyaz on demand.
 *
 *   yazill roundtrip IN OUT
 *       IN holds one or more concatenated BER ILL-APDUs (definite or indefinite lengths).
 *       For APDU i: print "APDU i", YAZ's ODR_PRINT tree of it, "END i"; append YAZ's
 *       re-encoding of it to OUT. Exit 0 when every APDU decoded. On the first failure
 *       print "ERROR i OFFSET MESSAGE" and exit 2: OFFSET is where in IN YAZ stopped,
 *       MESSAGE is ODR's error text with its x-info (and element, if YAZ names one), or
 *       "incomplete APDU" when IN ends inside one.
 *
 *   yazill bench IN N
 *       Decode every APDU in IN N times, then encode every one N times, and print
 *       "decode <APDUs per second>" and "encode <APDUs per second>", per second of
 *       this process's CPU time.
 *
 * Exit status 1 is for usage and I/O errors.
 *
 * Like YAZ's own network code, each APDU is first framed with completeBER() and the
 * decoder only sees that frame: ODR does not bounds-check end-of-contents octets, so
 * left to itself it reads past the end of a truncated indefinite-length APDU.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaz/ill.h>
#include <yaz/odr.h>

#define PAD 16 /* non-zero bytes after the data, so no stray read sees end-of-contents */

/* Read all of path into a malloc'ed buffer (ODR wants int lengths). */
static char *slurp(const char *path, int *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *more;
    size_t n = 0, cap = 0, got;

    if (!f)
        return NULL;
    do
    {
        if (cap - n < PAD)
        {
            cap = cap ? cap * 2 : 65536;
            if (cap > INT_MAX || !(more = realloc(buf, cap)))
            {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = more;
        }
        got = fread(buf + n, 1, cap - n - PAD, f);
        n += got;
    } while (got > 0);
    if (ferror(f))
    {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    memset(buf + n, 0xff, PAD);
    *len = (int) n;
    return buf;
}

/*
 * Decode the APDU at the start of buf[0..len) with dec, which is reset first so that each
 * APDU starts afresh and reuses the stream's memory. Return the bytes it took, 0 when buf
 * holds only part of an APDU, or -1 when YAZ refused it (details in dec).
 */
static int decode_one(ODR dec, char *buf, int len, ILL_APDU **apdu)
{
    int frame = completeBER(buf, len);

    if (frame == 0)
        return 0;
    odr_reset(dec);
    odr_setbuf(dec, buf, frame, 0);
    *apdu = NULL;
    if (!ill_APDU(dec, apdu, 0, 0) || odr_offset(dec) <= 0)
        return -1;
    return odr_offset(dec);
}

/* The ERROR line for APDU index at pos, after decode_one returned result. */
static void print_error(int index, int pos, int result, ODR o)
{
    int x = 0, e;
    const char *element;

    if (result == 0)
    {
        printf("ERROR %d %d incomplete APDU (completeBER wants more bytes)\n", index, pos);
        return;
    }
    e = odr_geterrorx(o, &x);
    element = odr_getelement(o);
    printf("ERROR %d %d %s (x-info %d)", index, pos + odr_offset(o), odr_errmsg(e), x);
    if (element && *element)
        printf(" element %s", element);
    putchar('\n');
}

static int roundtrip(const char *in_path, const char *out_path)
{
    int len = 0, pos = 0, index = 0, status = 0;
    char *buf = slurp(in_path, &len);
    FILE *out = fopen(out_path, "wb");
    ODR dec = odr_createmem(ODR_DECODE);
    ODR enc = odr_createmem(ODR_ENCODE);
    ODR print = odr_createmem(ODR_PRINT);

    if (!buf || !out)
    {
        fprintf(stderr, "yazill: cannot read %s or write %s\n", in_path, out_path);
        status = 1;
    }
    odr_setprint_noclose(print, stdout);
    for (; status == 0 && pos < len; index++)
    {
        ILL_APDU *apdu;
        char *bytes;
        int size, used = decode_one(dec, buf + pos, len - pos, &apdu);

        if (used <= 0)
        {
            print_error(index, pos, used, dec);
            status = 2;
            break;
        }
        printf("APDU %d\n", index);
        odr_reset(print);
        ill_APDU(print, &apdu, 0, 0);
        printf("END %d\n", index);

        odr_reset(enc);
        if (!ill_APDU(enc, &apdu, 0, 0))
        {
            print_error(index, pos, -1, enc);
            status = 2;
            break;
        }
        bytes = odr_getbuf(enc, &size, 0);
        if (fwrite(bytes, 1, size, out) != (size_t) size)
            status = 1;
        pos += used;
    }
    if (out && fclose(out) != 0 && status == 0)
        status = 1;
    if (status == 1 && buf && out)
        fprintf(stderr, "yazill: cannot write %s\n", out_path);
    odr_destroy(print);
    odr_destroy(enc);
    odr_destroy(dec);
    free(buf);
    return status;
}

/* CPU time, not wall time: the benchmarks compare YAZ with Python codecs measured the same
 * way in the same run, and on a shared machine only CPU time keeps that comparison fair. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench(const char *in_path, long rounds)
{
    int len = 0, pos = 0, count = 0, cap = 0, i, size, used;
    long r;
    char *buf = slurp(in_path, &len);
    int *starts = NULL;
    ILL_APDU **apdus = NULL;
    NMEM kept = nmem_create(); /* holds the APDUs the encode loop re-encodes */
    ODR dec = odr_createmem(ODR_DECODE);
    ODR enc = odr_createmem(ODR_ENCODE);
    double t, decode_rate, encode_rate;

    if (!buf)
    {
        fprintf(stderr, "yazill: cannot read %s\n", in_path);
        return 1;
    }
    /* Split IN into APDUs once, keeping each decoded APDU (its memory moved to kept). */
    for (; pos < len; pos += used, count++)
    {
        if (count == cap)
        {
            cap = cap ? 2 * cap : 64;
            starts = realloc(starts, cap * sizeof *starts);
            apdus = realloc(apdus, cap * sizeof *apdus);
            if (!starts || !apdus)
                return 1;
        }
        used = decode_one(dec, buf + pos, len - pos, &apdus[count]);
        if (used <= 0)
        {
            print_error(count, pos, used, dec);
            return 2;
        }
        nmem_transfer(kept, dec->mem);
        starts[count] = pos;
    }
    if (count == 0)
    {
        fprintf(stderr, "yazill: no APDUs in %s\n", in_path);
        return 1;
    }

    /* odr_reset keeps each stream's memory blocks and buffer, so the loops reuse them. */
    t = now();
    for (r = 0; r < rounds; r++)
        for (i = 0; i < count; i++)
        {
            ILL_APDU *apdu;
            int end = i + 1 < count ? starts[i + 1] : len;
            if (decode_one(dec, buf + starts[i], end - starts[i], &apdu) <= 0)
                return 2;
        }
    decode_rate = (double) rounds * count / (now() - t);

    t = now();
    for (r = 0; r < rounds; r++)
        for (i = 0; i < count; i++)
        {
            odr_reset(enc);
            if (!ill_APDU(enc, &apdus[i], 0, 0))
                return 2;
            odr_getbuf(enc, &size, 0);
        }
    encode_rate = (double) rounds * count / (now() - t);

    printf("decode %.1f\nencode %.1f\n", decode_rate, encode_rate);
    odr_destroy(enc);
    odr_destroy(dec);
    nmem_destroy(kept);
    free(apdus);
    free(starts);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "roundtrip"))
        return roundtrip(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "bench") && atol(argv[3]) > 0)
        return bench(argv[2], atol(argv[3]));
    fprintf(stderr, "usage: yazill roundtrip IN OUT\n"
                    "       yazill bench IN N    (N > 0)\n");
    return 1;
}
