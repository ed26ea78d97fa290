/*  cf_settings_internal: what cf_settings' files share, not for users.     */
#ifndef CF_SETTINGS_INTERNAL_H
#define CF_SETTINGS_INTERNAL_H

#include "caseflow/cf_settings.h"

/*  head, a --help line for each setting of section's program and for
    --config, then tail (NULL: the --help line). The caller frees it.       */
char *settings_usage_text(const char *section, const char *head, const char *tail);

#endif
