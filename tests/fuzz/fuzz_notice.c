/*  libFuzzer harness: the subscriber's side, as caseflow-watch reads it: a
    notification [topic, body] through cf_msg_parse_notice, the sequence
    and repeat checks (cf_seqcheck) and the JSON printer; frame 1 read as a
    SNAPSHOT answer through cf_snapshot_prime. And the broker's side of
    the same two frames as a worker's DONE pair: cf_msg_check_worker_notice
    and the stamp (cf_msg_pack_notice), which must take every pair that the
    check passes. Input: frames as in fuzz_frames.h.                        */
#include "fuzz_frames.h"
#include "caseflow/cf_json.h"
#include "caseflow/cf_msg.h"
#include "caseflow/cf_seqcheck.h"
#include "caseflow/cf_snapshot.h"
#include "caseflow/cf_unpack.h"

#include <assert.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_multipart_t *parts;
    static cf_json_t *json;
    if (!parts) {
        parts = cf_multipart_new(4);    /* as caseflow-watch's */
        json = cf_json_new();
    }
    fuzz_frames_fill(parts, data, size);
    cf_seqcheck_t *seqs = cf_seqcheck_new();    /* per input: the runs stay independent */
    msgpack_unpacked body;
    msgpack_unpacked_init(&body);
    cf_msg_notice_t n;
    if (cf_msg_parse_notice(parts, &body, &n) == 0) {
        uint64_t last;
        if (n.publisher && n.has_seq)
            cf_seqcheck_see(seqs, n.publisher, n.publisher_len, n.topic, n.topic_len, n.seq, &last);
        if (n.id)
            cf_seqcheck_repeat(seqs, n.id, n.id_len);
        cf_json_from_object(json, n.body);
        cf_snapshot_prime(seqs, n.body);
    }
    if (cf_multipart_size(parts) > 1
        && cf_unpack(&body, cf_multipart_data(parts, 1), cf_multipart_len(parts, 1)) == 0)
        cf_snapshot_prime(seqs, &body.data);
    msgpack_unpacked_destroy(&body);
    cf_seqcheck_destroy(&seqs);
    if (cf_multipart_size(parts) >= 2) {
        static msgpack_sbuffer stamped;     /* reused; never freed, as parts */
        char reason[96];
        cf_msg_notice_t stamp = {
            .topic = cf_multipart_data(parts, 0), .topic_len = cf_multipart_len(parts, 0),
            .publisher = "fuzz", .publisher_len = 4, .has_seq = true, .seq = 1 };
        const char *why = cf_msg_check_worker_notice(stamp.topic, stamp.topic_len,
                                                     cf_multipart_data(parts, 1),
                                                     cf_multipart_len(parts, 1), reason,
                                                     sizeof reason);
        int packed = cf_msg_pack_notice(&stamped, &stamp, cf_multipart_data(parts, 1),
                                        cf_multipart_len(parts, 1));
        assert(why || packed == 0);
    }
    return 0;
}
