/* What a new installation starts with. */
#ifndef ROOMS_SEED_H
#define ROOMS_SEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "rooms/db.h"

/* With no admin account yet, creates 'admin' (all units, role admin) with this password, or
 * a generated one written to generated (shown once by the caller). 1 created, 0 nothing to
 * do, -1 error (e.g. a password the policy refuses). */
int seed_admin(struct db *db, const char *password, char *generated, size_t genlen, char *err, size_t errlen);

/* Gives every unit of unit's subtree (or only unit itself) that has no site one site named
 * after it, with a fresh credential, in one transaction. Returns the new sites as
 * [{site, unit, name, secret}] (the only time the secrets are seen), or NULL when nothing
 * could be stored. */
json_t *seed_sites(struct db *db, const char *unit, bool subtree);

/* With no conference yet: one site per unit of the province's subtree, and a permanent
 * province conference inviting all of them, chaired by the province's site, live. The
 * sites' credentials go to secrets_path (mode 0600) as {"sites":[{site,unit,name,secret}]}.
 * 1 seeded, 0 nothing to do, -1 error. */
int seed_demo(struct db *db, const char *province, const char *secrets_path, char *err, size_t errlen);

#endif
