/* Nesting depth of JSON text, found without parsing it (see jsonlimit.h). */
#include "signaling/jsonlimit.h"

#include <stdbool.h>

int jsonlimit_depth(const char *text, size_t len, int max_depth)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max_depth)
                return -1;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--; /* an unbalanced closer is the parser's to refuse */
        }
    }
    return 0;
}
