import { AxeBuilder } from '@axe-core/playwright'
import type { Page, TestInfo } from '@playwright/test'
import { expect, test, type Actor, type CreatedDoc } from '../support/fixtures.ts'
import { HomePage } from '../support/HomePage.ts'
import { typeSampleDocument } from '../support/sampleDocument.ts'

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
const BLOCKING_IMPACTS = new Set(['serious', 'critical'])
const PHONE = { width: 390, height: 844 }

/** A room to look at: Alice editing a real document, Bob in it too, both links. */
interface Room {
  readonly doc: CreatedDoc
  readonly alice: Actor
  readonly bob: Actor
}

/**
 * Everything a person can open, checked with axe in light and dark (R63). `page` picks whose page
 * is looked at; `open` brings the surface up on it (a dialog, a popover) and waits until it shows.
 * Add an entry when a new dialog or page appears.
 */
interface Surface {
  readonly name: string
  readonly page: (room: Room, newActor: (name: string) => Promise<Actor>) => Promise<Page>
  readonly open?: (page: Page) => Promise<void>
}

const aliceEditing = (room: Room): Promise<Page> => Promise.resolve(room.alice.page)
const victorViewing = async (room: Room, newActor: (name: string) => Promise<Actor>): Promise<Page> => {
  const victor = await newActor('Victor')
  await victor.view(room.doc.viewUrl)
  return victor.page
}
const homeWithTheDocument = async (room: Room): Promise<Page> => {
  const home = new HomePage(room.alice.page)
  await home.goto()
  await expect(home.recentDoc(room.doc.id)).toBeVisible()
  return room.alice.page
}

/** Selects the first word of the first paragraph, so link and format commands have a target. */
async function selectAWord(page: Page): Promise<void> {
  await page.locator('.ProseMirror p').first().dblclick()
}

const SURFACES: readonly Surface[] = [
  { name: 'home page', page: homeWithTheDocument },
  { name: 'editor page', page: aliceEditing },
  { name: 'viewer page', page: victorViewing },
  {
    name: 'name dialog',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('rename-self').click()
      await expect(page.getByTestId('name-dialog')).toBeVisible()
    },
  },
  {
    name: 'viewer name dialog',
    page: victorViewing,
    open: async (page) => {
      await page.getByTestId('rename-self').click()
      await expect(page.getByTestId('name-dialog')).toBeVisible()
    },
  },
  {
    name: 'share dialog',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('share-button').click()
      await expect(page.getByTestId('share-edit-link')).toHaveValue(/\/d\//)
    },
  },
  {
    name: 'link editor',
    page: aliceEditing,
    open: async (page) => {
      await selectAWord(page)
      await page.keyboard.press('ControlOrMeta+k')
      await expect(page.getByTestId('link-editor')).toBeVisible()
    },
  },
  {
    name: 'image dialog',
    page: aliceEditing,
    open: async (page) => {
      await page.getByRole('button', { name: 'Image', exact: true }).click()
      await expect(page.getByTestId('image-dialog')).toBeVisible()
    },
  },
  {
    name: 'shortcut sheet',
    page: aliceEditing,
    open: async (page) => {
      await page.locator('.ProseMirror').click()
      await page.keyboard.press('ControlOrMeta+/')
      await expect(page.getByTestId('shortcut-sheet')).toBeVisible()
    },
  },
  {
    name: 'save version dialog',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('history-button').click()
      await page.getByRole('button', { name: 'Save version…' }).click()
      await expect(page.getByTestId('save-version-dialog')).toBeVisible()
    },
  },
  {
    name: 'document menu',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('document-menu-button').click()
      await expect(page.getByTestId('document-menu')).toBeVisible()
    },
  },
  {
    name: 'delete dialog',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('document-menu-button').click()
      await page.getByRole('menuitem', { name: 'Delete document…' }).click()
      await expect(page.getByTestId('delete-dialog')).toBeVisible()
    },
  },
  {
    name: 'connection details',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('status-details-button').click()
      await expect(page.getByTestId('status-details')).toBeVisible()
    },
  },
  {
    name: 'editor page at phone width, people opened',
    page: aliceEditing,
    open: async (page) => {
      await page.setViewportSize(PHONE)
      await page.getByTestId('presence-count').click()
      await expect(page.getByTestId('presence-list')).toBeVisible()
    },
  },
  {
    name: 'viewer list',
    page: async (room, newActor) => {
      await victorViewing(room, newActor)
      return room.alice.page
    },
    open: async (page) => {
      await page.getByTestId('viewer-count').click()
      await expect(page.getByTestId('viewer-list')).toBeVisible()
    },
  },
  {
    name: 'page for a link without its token',
    page: async (room) => {
      await room.alice.page.goto(`/d/${room.doc.id}x`)
      await expect(room.alice.page.getByTestId('missing-link')).toBeVisible()
      return room.alice.page
    },
  },
  {
    name: 'refused viewer (reset links)',
    page: async (room, newActor) => {
      const page = await victorViewing(room, newActor)
      await room.alice.editor.resetLinks()
      await expect(page.getByTestId('refusal')).toBeVisible()
      return page
    },
  },
  {
    name: 'theme menu',
    page: aliceEditing,
    open: async (page) => {
      await page.getByTestId('theme-toggle').click()
      await expect(page.getByTestId('theme-menu')).toBeVisible()
    },
  },
]

async function openRoom(createDoc: () => Promise<CreatedDoc>, newActor: (name: string) => Promise<Actor>) {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await alice.open(doc.editUrl)
  await bob.open(doc.editUrl)
  await typeSampleDocument(alice)
  // Bob's caret, with its name label, sits in the text Alice sees.
  await bob.editor.placeCaretAtEndOfBlock(2)
  await expect.poll(() => alice.editor.caretNames()).toEqual(['Bob'])
  return { doc, alice, bob }
}

/** axe on the whole page as it is now; fails with every serious or critical violation listed. */
async function expectNoSeriousViolations(page: Page, label: string, testInfo: TestInfo): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze()
  const blocking = results.violations.filter((violation) => BLOCKING_IMPACTS.has(violation.impact ?? ''))
  await testInfo.attach(`axe ${label}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: 'application/json',
  })
  const report = blocking.map(
    (violation) =>
      `${violation.impact} ${violation.id}: ${violation.help}\n` +
      violation.nodes.map((node) => `    ${node.target.join(' ')}: ${node.failureSummary ?? ''}`).join('\n'),
  )
  expect(report, `serious or critical axe violations on ${label}`).toEqual([])
}

for (const surface of SURFACES) {
  test(`[R63] ${surface.name}: no serious or critical axe violations (WCAG 2.1 A/AA), in light and in dark`, async ({
    createDoc,
    newActor,
  }, testInfo) => {
    const room = await openRoom(createDoc, newActor)
    const page = await surface.page(room, newActor)
    await surface.open?.(page)
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme })
      await expectNoSeriousViolations(page, `${surface.name} (${colorScheme})`, testInfo)
    }
  })
}

test('[R63] the theme toggle pins light or dark over the system theme, before the first paint, and is remembered', async ({
  createDoc,
  newActor,
}, testInfo) => {
  const room = await openRoom(createDoc, newActor)
  const { page } = room.alice
  const background = (): Promise<string> =>
    page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
  await page.emulateMedia({ colorScheme: 'light' })
  const light = await background()
  await page.emulateMedia({ colorScheme: 'dark' })
  const dark = await background()
  expect(dark).not.toBe(light)

  // The system says light; the toggle says dark, and wins.
  await page.emulateMedia({ colorScheme: 'light' })
  const toggle = page.getByTestId('theme-toggle')
  await expect(toggle).toHaveAccessibleName('Theme: System')
  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
  await page.getByTestId('theme-menu').getByLabel('Dark').check()
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  await expect.poll(background).toBe(dark)
  await page.keyboard.press('Escape')
  await expect(toggle).toHaveAttribute('aria-expanded', 'false')
  await expect(toggle).toHaveAccessibleName('Theme: Dark')
  await expectNoSeriousViolations(page, 'editor page (toggle dark, system light)', testInfo)

  // After a reload the choice is on <html> before <body> exists: no white flash.
  await page.addInitScript(() => {
    const seen = window as unknown as { themeAtBody?: string }
    new MutationObserver((_, observer) => {
      if (document.body === null) return
      seen.themeAtBody = document.documentElement.dataset['theme'] ?? 'none'
      observer.disconnect()
    }).observe(document, { childList: true, subtree: true })
  })
  await page.reload()
  await room.alice.editor.waitSynced()
  expect(await page.evaluate(() => (window as unknown as { themeAtBody?: string }).themeAtBody)).toBe('dark')
  expect(await background()).toBe(dark)

  // "System" follows the system again.
  await toggle.click()
  await page.getByTestId('theme-menu').getByLabel('System').check()
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./)
  await expect.poll(background).toBe(light)
})

test('[R63] dialogs are modal: focus starts inside, Tab stays inside, Escape closes, focus returns to the opener', async ({
  createDoc,
  newActor,
}) => {
  const { alice } = await openRoom(createDoc, newActor)
  const { page } = alice
  const openers = [
    { opener: page.getByTestId('share-button'), dialog: page.getByTestId('share-dialog') },
    { opener: page.getByTestId('rename-self'), dialog: page.getByTestId('name-dialog') },
  ]
  for (const { opener, dialog } of openers) {
    await opener.focus()
    await page.keyboard.press('Enter')
    await expect(dialog).toBeVisible()
    await expect(dialog).toHaveJSProperty('open', true)
    expect(await dialog.evaluate((element) => element.matches(':modal'))).toBe(true)
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab')
      const isInside = await dialog.evaluate((element) => element.contains(document.activeElement))
      // Chromium lets Tab reach the browser's own UI after the last control, then comes back in.
      if (!isInside) expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true)
    }
    await page.keyboard.press('Escape')
    await expect(dialog).toBeHidden()
    await expect(opener).toBeFocused()
  }
})

test('[R63] status in plain words: screen readers hear offline and back online, not every Saving/Saved', async ({
  server,
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  const announcement = alice.page.getByTestId('status-announcement')
  const headline = alice.editor.connectionState
  await expect(headline).toHaveText('Saved')
  await expect(alice.page.getByRole('status')).toHaveCount(1)

  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Typing flips Saving… and Saved.')
  await alice.editor.waitSaved()
  await expect(headline).toHaveText('Saved')
  await expect(announcement).toHaveText('')

  await server.stop()
  await expect(headline).toHaveText('Offline — changes kept on this device')
  await expect(announcement).toHaveText('Offline — changes kept on this device')
  await expect(alice.page.getByTestId('retry-now')).toBeVisible()
  // The technical side is in the details, not the header.
  await expect(alice.page.locator('.editor-header')).not.toContainText(/WebSocket|\d{4}/, {
    useInnerText: true,
  })
  await alice.page.getByTestId('status-details-button').click()
  await expect(alice.page.getByTestId('status-details-button')).toHaveAttribute('aria-expanded', 'true')
  await expect(alice.page.getByTestId('status-details')).toContainText('WebSocket')
  await alice.page.keyboard.press('Escape')

  await server.start()
  await alice.page.getByTestId('retry-now').click()
  await expect(headline).toHaveText('Saved', { timeout: 30_000 })
  await expect(announcement).toHaveText('Back online')
})

test('[R63] at phone width the header never overflows, people collapse into "2 here", and the list opens on tap', async ({
  browser,
  server,
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const bob = await newActor('Bob')
  await bob.open(doc.editUrl)
  const context = await browser.newContext({ baseURL: server.url, viewport: PHONE, hasTouch: true })
  try {
    const page = await context.newPage()
    await page.goto(`${doc.editUrl}&name=Alice`)
    await expect(page.getByTestId('status-badge')).toHaveAttribute('data-synced', 'true')
    const count = page.getByTestId('presence-count')
    await expect(count).toHaveText(/2 here/)
    await expect(count).toHaveAttribute('aria-expanded', 'false')
    await expect(page.getByTestId('presence-list')).toBeHidden()
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width)
    const header = page.locator('.editor-header')
    expect(await header.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true)

    await count.tap()
    await expect(page.getByTestId('presence-list')).toBeVisible()
    await expect(count).toHaveAttribute('aria-expanded', 'true')
    await expect(page.getByTestId('presence-user').locator('.presence-name')).toHaveText(['Alice', 'Bob'])
    // The text uses the width of the phone.
    const text = await page.locator('.ProseMirror').boundingBox()
    expect(text?.width ?? 0).toBeGreaterThan(PHONE.width - 8)
  } finally {
    await context.close()
  }
})
