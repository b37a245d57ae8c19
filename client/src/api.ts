/** The REST calls the pages make (docs/PROTOCOL.md §3). */

export interface CreatedDocument {
  readonly id: string
  readonly url: string
}

export class ApiError extends Error {
  override readonly name = 'ApiError'
}

export async function createDocument(): Promise<CreatedDocument> {
  const response = await fetch('/api/docs', { method: 'POST' })
  if (response.status !== 201) throw new ApiError(`the server answered ${response.status}`)
  const body: unknown = await response.json()
  if (!isCreatedDocument(body)) throw new ApiError('the server sent an unexpected reply')
  return body
}

function isCreatedDocument(value: unknown): value is CreatedDocument {
  if (typeof value !== 'object' || value === null) return false
  const { id, url } = value as Record<string, unknown>
  return typeof id === 'string' && typeof url === 'string' && url.startsWith('/')
}
