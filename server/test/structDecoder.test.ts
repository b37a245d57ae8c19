import fc from 'fast-check'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { decodeForInspection, type DecodedUpdate } from '../src/core/structDecoder.ts'

/** What validation reads of a decoded update: ids, lengths, references and content kinds. */
function shape(decoded: DecodedUpdate): unknown {
  return {
    structs: decoded.structs.map((struct) => ({
      kind: struct.constructor.name,
      id: struct.id,
      length: struct.length,
      ...(struct instanceof Y.Item
        ? {
            origin: struct.origin,
            rightOrigin: struct.rightOrigin,
            parent: struct.parent as unknown,
            parentSub: struct.parentSub,
            content: struct.content.constructor.name,
          }
        : {}),
    })),
    ds: [...decoded.ds.clients],
  }
}

const LARGE = 64 * 1024

describe('inspecting an update without decoding its large strings', () => {
  it('[R31] reads the same structs as Yjs for large texts of every width (fixed seed)', () => {
    const unit = fc.constantFrom('a', 'é', 'ж', '中', '😀', '\u{10FFFF}', '\uFEFF', '\n')
    fc.assert(
      fc.property(
        fc.array(unit, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        (units, extra) => {
          const doc = new Y.Doc()
          const text = units.join('').repeat(Math.ceil(LARGE / units.join('').length) + extra)
          doc.getText('t').insert(0, 'small ')
          doc.getText('t').insert(3, text, { bold: true })
          doc.getMap('m').set(text.slice(0, 10), text.slice(0, 2000))
          doc.getText('t').delete(1, 2)
          const update = Y.encodeStateAsUpdate(doc)
          expect(shape(decodeForInspection(update))).toEqual(shape(Y.decodeUpdate(update)))
        },
      ),
      { numRuns: 40 },
    )
  })

  it('[R31] a huge JSON entry (parsed, not measured) and invalid UTF-8 are read as Yjs reads them', () => {
    const entry = new Y.Item(
      Y.createID(1, 0),
      null,
      null,
      null,
      null,
      // A root type's name: Yjs writes a string parent as one.
      'j' as unknown as Y.ID,
      null,
      new Y.ContentJSON(['x'.repeat(LARGE)]),
    )
    const encoder = new Y.UpdateEncoderV1()
    encoding.writeVarUint(encoder.restEncoder, 1) // one client
    encoding.writeVarUint(encoder.restEncoder, 1) // one struct
    encoder.writeClient(1)
    encoding.writeVarUint(encoder.restEncoder, 0) // first clock
    entry.write(encoder, 0)
    encoding.writeVarUint(encoder.restEncoder, 0) // empty delete set
    const update = encoder.toUint8Array()
    expect(shape(decodeForInspection(update))).toEqual(shape(Y.decodeUpdate(update)))

    const text = new Y.Doc()
    text.getText('t').insert(0, 'é'.repeat(LARGE))
    const broken = Y.encodeStateAsUpdate(text)
    // A lead byte of 'é' (0xC3) becomes a continuation byte: not UTF-8 any more.
    broken[broken.indexOf(0xc3)] = 0x83
    expect(() => Y.decodeUpdate(broken)).toThrow()
    expect(() => decodeForInspection(broken)).toThrow()
  })
})
