import { describe, expect, it } from 'vitest'
import {
  documentPath,
  openTargetFromInput,
  routeFromPath,
  tokenFromSearch,
  transportFromSearch,
} from '../src/route.ts'

describe('routeFromPath', () => {
  it('maps the four pages', () => {
    expect(routeFromPath('/')).toEqual({ kind: 'home' })
    expect(routeFromPath('/d/abc_DEF-123')).toEqual({ kind: 'editor', docId: 'abc_DEF-123' })
    expect(routeFromPath('/d/abc/')).toEqual({ kind: 'editor', docId: 'abc' })
    expect(routeFromPath('/v/abc_DEF-123')).toEqual({ kind: 'viewer', docId: 'abc_DEF-123' })
    expect(routeFromPath('/elsewhere')).toEqual({ kind: 'notFound' })
  })

  it('sends invalid document ids to not found (SPEC R3)', () => {
    expect(routeFromPath('/d/has.dot')).toEqual({ kind: 'notFound' })
    expect(routeFromPath(`/v/${'a'.repeat(65)}`)).toEqual({ kind: 'notFound' })
    expect(routeFromPath('/d/a/b')).toEqual({ kind: 'notFound' })
    expect(routeFromPath('/x/abc')).toEqual({ kind: 'notFound' })
  })
})

describe('links', () => {
  it('builds edit and view paths with the token escaped', () => {
    expect(documentPath('edit', 'abc', 'tok')).toBe('/d/abc?k=tok')
    expect(documentPath('view', 'abc', 'a+b/c=')).toBe('/v/abc?k=a%2Bb%2Fc%3D')
  })

  it('reads the token, treating an empty one as none', () => {
    expect(tokenFromSearch('?name=Bob&k=a%2Bb')).toBe('a+b')
    expect(tokenFromSearch('?k=')).toBeNull()
    expect(tokenFromSearch('')).toBeNull()
  })

  it('[R26] reads a forced transport and ignores unknown ones', () => {
    expect(transportFromSearch('?k=E1&transport=longpoll')).toBe('longpoll')
    expect(transportFromSearch('?transport=websocket')).toBe('websocket')
    expect(transportFromSearch('?transport=poll')).toBe('poll')
    expect(transportFromSearch('?transport=sse')).toBe('sse')
    expect(transportFromSearch('?transport=LongPoll')).toBeNull()
    expect(transportFromSearch('?transport=carrier-pigeon')).toBeNull()
    expect(transportFromSearch('?transport=')).toBeNull()
    expect(transportFromSearch('?k=E1')).toBeNull()
  })
})

describe('openTargetFromInput', () => {
  it('opens pasted edit and view links, with or without the origin', () => {
    expect(openTargetFromInput(' http://localhost:1234/d/abc123?k=E1&name=Bob ')).toEqual({
      kind: 'link',
      mode: 'edit',
      docId: 'abc123',
      token: 'E1',
    })
    expect(openTargetFromInput('/v/abc123?k=V1')).toEqual({
      kind: 'link',
      mode: 'view',
      docId: 'abc123',
      token: 'V1',
    })
    expect(openTargetFromInput('example.com/v/abc123/?k=V1#top')).toEqual({
      kind: 'link',
      mode: 'view',
      docId: 'abc123',
      token: 'V1',
    })
  })

  it('treats a bare id, or a link without its token, as an id', () => {
    expect(openTargetFromInput('  abc123 ')).toEqual({ kind: 'id', docId: 'abc123' })
    expect(openTargetFromInput('http://localhost:1234/d/abc123?name=Bob')).toEqual({
      kind: 'id',
      docId: 'abc123',
    })
  })

  it('rejects anything whose id is not valid (SPEC R3)', () => {
    expect(openTargetFromInput('')).toBeNull()
    expect(openTargetFromInput('not/a valid id')).toBeNull()
    expect(openTargetFromInput('http://localhost:1234/d/bad%20id?k=x')).toBeNull()
  })
})
