import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { expect, test } from '../support/fixtures.ts'
import { typeSampleDocument } from '../support/sampleDocument.ts'

/** README.md shows these; every e2e run rewrites them from the app as it is (R63). */
const SCREENSHOTS_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

async function shoot(page: Page, name: string): Promise<void> {
  // No hover effects or blinking carets in the picture: the pointer rests outside the page.
  await page.mouse.move(0, 0)
  await page.screenshot({ path: `${SCREENSHOTS_DIR}${name}.png`, animations: 'disabled', caret: 'hide' })
}

test('[R63] screenshots: two people co-editing in light, dark and on a phone; the home page; a viewer', async ({
  browser,
  server,
  createDoc,
  newActor,
}) => {
  await mkdir(SCREENSHOTS_DIR, { recursive: true })
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await alice.page.setViewportSize(DESKTOP)
  await alice.open(doc.editUrl)
  await bob.open(doc.editUrl)
  const title = alice.page.getByTestId('title-field')
  if ((await title.count()) > 0) await title.fill('Launch plan')
  await typeSampleDocument(alice)
  await bob.editor.placeCaretAtEndOfBlock(2)
  await expect.poll(() => alice.editor.caretNames()).toEqual(['Bob'])

  await alice.page.emulateMedia({ colorScheme: 'light' })
  await shoot(alice.page, 'editor-light')
  await alice.page.emulateMedia({ colorScheme: 'dark' })
  await shoot(alice.page, 'editor-dark')

  const victor = await newActor('Victor')
  await victor.page.setViewportSize(DESKTOP)
  await victor.page.emulateMedia({ colorScheme: 'light' })
  await victor.view(doc.viewUrl)
  await expect(alice.editor.viewerCount).toHaveText('1 viewing')
  await expect.poll(() => victor.viewer.caretNames()).toEqual(expect.arrayContaining(['Bob']))
  await shoot(victor.page, 'viewer-light')

  // Alice's browser remembers the document: the home page lists it, live.
  const home = await alice.page.context().newPage()
  await home.setViewportSize(DESKTOP)
  await home.emulateMedia({ colorScheme: 'light' })
  await home.goto('/')
  await expect(home.getByTestId('doc-entry')).toHaveCount(1)
  await expect(home.getByTestId('doc-editors')).toContainText('Bob')
  await shoot(home, 'home-light')
  await home.close()

  const phone = await browser.newContext({
    baseURL: server.url,
    viewport: PHONE,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'light',
  })
  try {
    const page = await phone.newPage()
    await page.goto(`${doc.editUrl}&name=Carol`)
    await expect(page.getByTestId('status-badge')).toHaveAttribute('data-synced', 'true')
    await expect(page.getByTestId('presence-count')).toHaveText(/3 here/)
    await expect(page.locator('.ProseMirror h1')).toHaveText('Launch plan')
    await shoot(page, 'editor-phone')
  } finally {
    await phone.close()
  }
})
