import { isAscii, isUtf8 } from 'node:buffer'
import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

/** Strings from this size on are measured, not decoded, when an update is only inspected. */
const MEASURED_STRING_BYTES = 64 * 1024

/**
 * Reads an update's structs to inspect them (R31), without materializing large strings: a string
 * of text is read as a stand-in of the same UTF-16 length (a rope V8 builds in O(log n) memory),
 * since validation needs every struct's length, never its characters. The document decodes the
 * update once more when it applies it: an 8 MiB insert is then one 8 MiB string, not two.
 * Exact: a stand-in is made only for valid UTF-8, whose UTF-16 length is its count of code points
 * plus one per code point beyond U+FFFF; anything else is read as lib0 reads it (which refuses
 * invalid UTF-8, as the document would).
 */
class InspectingDecoder extends Y.UpdateDecoderV1 {
  override readString(): string {
    const decoder = this.restDecoder
    const start = decoder.pos
    const byteLength = decoding.readVarUint(decoder)
    if (byteLength >= MEASURED_STRING_BYTES) {
      const bytes = decoding.readUint8Array(decoder, byteLength)
      if (isUtf8(bytes)) return '\u0000'.repeat(utf16Length(bytes))
    }
    decoder.pos = start
    return super.readString()
  }
}

export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/**
 * `Y.decodeUpdate` for inspection: the same structs and delete set, large strings stood in for.
 * A stand-in where content is parsed (a huge JSON entry) fails to parse: then the update is
 * decoded as it is, which decides.
 */
export function decodeForInspection(update: Uint8Array): DecodedUpdate {
  try {
    // decodeUpdateV2 is Yjs's decoder for either encoding, given its decoder class.
    return Y.decodeUpdateV2(update, InspectingDecoder)
  } catch {
    return Y.decodeUpdate(update)
  }
}

/** UTF-16 code units of valid UTF-8: one per lead byte, two for a 4-byte sequence's. */
function utf16Length(bytes: Uint8Array): number {
  if (isAscii(bytes)) return bytes.length
  let units = 0
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1
  }
  return units
}
