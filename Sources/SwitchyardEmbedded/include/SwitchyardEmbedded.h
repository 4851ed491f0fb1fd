#ifndef SWITCHYARD_EMBEDDED_H
#define SWITCHYARD_EMBEDDED_H

#include <stddef.h>

/// The files embedded in the binary.
typedef enum {
    /// OpenAI's cl100k_base rank file.
    SwitchyardEmbeddedCl100kBase = 0,
    /// OpenAI's o200k_base rank file.
    SwitchyardEmbeddedO200kBase = 1,
    /// The built-in price table (YAML).
    SwitchyardEmbeddedPrices = 2,
} SwitchyardEmbeddedFile;

/// The bytes of an embedded file (read-only, alive for the whole process) and their count.
const unsigned char *switchyard_embedded(SwitchyardEmbeddedFile file, size_t *size);

#endif
