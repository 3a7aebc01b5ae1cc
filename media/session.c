/* Names of session states and close reasons, as the endpoint protocol spells them. */
#include "media/session.h"

const char *session_state_name(enum session_state s)
{
    static const char *const names[] = {"new", "checking", "connected", "failed", "closed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *session_close_reason_name(enum session_close_reason r)
{
    static const char *const names[] = {"left", "consent_expired", "dtls_failed", "dtls_closed",
                                        "shutdown"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "unknown";
}
