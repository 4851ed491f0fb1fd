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

/// Gives the memory pages that hold only `file` back to the system, for a file read once and kept
/// in another form (a rank file, once its table is built). The bytes stay readable: a page read
/// again is loaded from the binary again.
void switchyard_embedded_release(SwitchyardEmbeddedFile file);

#endif
