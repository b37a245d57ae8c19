import { describe, expect, it } from 'vitest'
import { docIdFromInput, routeFromPath } from '../src/route.ts'

describe('routeFromPath', () => {
  it('maps the three pages', () => {
    expect(routeFromPath('/')).toEqual({ kind: 'home' })
    expect(routeFromPath('/d/abc_DEF-123')).toEqual({ kind: 'editor', docId: 'abc_DEF-123' })
    expect(routeFromPath('/d/abc/')).toEqual({ kind: 'editor', docId: 'abc' })
    expect(routeFromPath('/elsewhere')).toEqual({ kind: 'notFound' })
  })

  it('sends invalid document ids to not found (SPEC R3)', () => {
    expect(routeFromPath('/d/has.dot')).toEqual({ kind: 'notFound' })
    expect(routeFromPath(`/d/${'a'.repeat(65)}`)).toEqual({ kind: 'notFound' })
    expect(routeFromPath('/d/a/b')).toEqual({ kind: 'notFound' })
  })
})

describe('docIdFromInput', () => {
  it('accepts a bare id or a pasted link', () => {
    expect(docIdFromInput('  abc123 ')).toBe('abc123')
    expect(docIdFromInput('http://localhost:1234/d/abc123?name=Bob')).toBe('abc123')
  })

  it('rejects anything that is not a valid id', () => {
    expect(docIdFromInput('')).toBeNull()
    expect(docIdFromInput('not/a valid id')).toBeNull()
    expect(docIdFromInput('http://localhost:1234/d/bad%20id')).toBeNull()
  })
})
