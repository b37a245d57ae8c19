import { DOC_TITLE } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { downloadFileName } from '../src/editor/fileName.ts'
import { applyFieldValue, mapPosition, minimalEdit, tabTitle, type TextDelta } from '../src/editor/title.ts'

describe('title field binding', () => {
  it('[R60] a keystroke is the smallest edit, so two people typing at once keep both', () => {
    expect(minimalEdit('Plan', 'Plans')).toEqual({ index: 4, removed: 0, inserted: 's' })
    expect(minimalEdit('aaa', 'aa')).toEqual({ index: 2, removed: 1, inserted: '' })
    expect(minimalEdit('Trip plan', 'Trip notes')).toEqual({ index: 5, removed: 4, inserted: 'notes' })
    expect(minimalEdit('same', 'same')).toBeNull()

    const ann = new Y.Doc()
    const bob = new Y.Doc()
    applyFieldValue(ann.getText(DOC_TITLE), 'Plan')
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(ann))
    // Concurrently: Ann adds at the end, Bob at the start.
    applyFieldValue(ann.getText(DOC_TITLE), 'Plans')
    applyFieldValue(bob.getText(DOC_TITLE), 'My Plan')
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(ann))
    Y.applyUpdate(ann, Y.encodeStateAsUpdate(bob))
    expect(ann.getText(DOC_TITLE).toString()).toBe('My Plans')
    expect(bob.getText(DOC_TITLE).toString()).toBe('My Plans')
  })

  it("[R60] someone else's change moves the caret by its delta", () => {
    const insertAt = (index: number, text: string): TextDelta => [{ retain: index }, { insert: text }]
    expect(mapPosition(4, insertAt(0, 'My '))).toBe(7)
    expect(mapPosition(2, insertAt(4, 's'))).toBe(2)
    // An insert exactly at the caret goes after it.
    expect(mapPosition(4, insertAt(4, 's'))).toBe(4)
    expect(mapPosition(6, [{ retain: 1 }, { delete: 3 }])).toBe(3)
    // A delete around the caret puts it where the deleted span began.
    expect(mapPosition(3, [{ retain: 1 }, { delete: 5 }])).toBe(1)
    expect(mapPosition(5, [{ delete: 2 }, { insert: 'abc' }])).toBe(6)
  })

  it('[R60] the tab names the document', () => {
    expect(tabTitle('Plans')).toBe('Plans · Tandem')
    expect(tabTitle('')).toBe('Untitled · Tandem')
  })
})

describe('download file names', () => {
  it('[R61] come from the title, safe on every file system', () => {
    expect(downloadFileName('My title', 'md')).toBe('My title.md')
    expect(downloadFileName('', 'md')).toBe('Untitled.md')
    expect(downloadFileName('a/b\\c: "d" <e>|f?*', 'html')).toBe('a b c d e f.html')
    expect(downloadFileName('  ..hidden. ', 'txt')).toBe('hidden.txt')
    expect(downloadFileName('???', 'json')).toBe('Untitled.json')
    expect(downloadFileName('CON', 'txt')).toBe('CON document.txt')
    expect(downloadFileName('x'.repeat(300), 'md')).toBe(`${'x'.repeat(100)}.md`)
  })
})
