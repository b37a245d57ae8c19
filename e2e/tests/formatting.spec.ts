import { expect, test } from '../support/fixtures.ts'

/**
 * Formatting you can see (SPEC R59): the toolbar, the selection menu, the link editor, tables,
 * images, the shortcut sheet, the placeholder and the caret on load, each as a person uses it, and
 * what one editor formats seen by another.
 */

test('[R59] the caret is in the text once the document is ready; an empty document says "Start writing…"', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)

  await expect(alice.editor.content).toBeFocused()
  const empty = alice.editor.content.locator('p.is-editor-empty')
  await expect(empty).toHaveAttribute('data-placeholder', 'Start writing…')
  // Typing goes straight into the document, without a click first.
  await alice.editor.type('Hello')
  await expect(empty).toHaveCount(0)
  await expect.poll(() => alice.editor.text()).toBe('Hello')
})

test('[R59] bold, a heading and a task list from the toolbar and the keyboard reach a second editor', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await Promise.all([alice.open(doc.editUrl), bob.open(doc.editUrl)])
  const { editor } = alice

  await editor.formatButton('Heading 1').click()
  await editor.type('Plan')
  await alice.page.keyboard.press('Enter')
  await editor.type('Make ')
  await editor.formatButton('Bold').click()
  await editor.type('this')
  await editor.formatButton('Bold').click()
  await editor.type(' and ')
  await alice.page.keyboard.press('ControlOrMeta+b')
  await editor.type('that')
  await alice.page.keyboard.press('ControlOrMeta+b')
  await editor.type(' bold.')
  await alice.page.keyboard.press('Enter')
  await editor.formatButton('Task list').click()
  await editor.type('Write it')
  await alice.page.keyboard.press('Enter')
  await editor.type('Ship it')

  const seen = bob.editor.content
  await expect.poll(() => bob.editor.textsIn('h1')).toEqual(['Plan'])
  await expect.poll(() => bob.editor.textsIn('p strong')).toEqual(['this', 'that'])
  const tasks = 'ul[data-type="taskList"] > li > div'
  await expect.poll(() => bob.editor.textsIn(tasks)).toEqual(['Write it', 'Ship it'])

  // Undo and redo from the toolbar: Collaboration's undo, which takes back Alice's own typing.
  const full = await bob.editor.text()
  await editor.formatButton('Undo').click()
  await expect.poll(() => bob.editor.text()).not.toBe(full)
  await expect(editor.formatButton('Redo')).toBeEnabled()
  await editor.formatButton('Redo').click()
  // (Redo may leave an empty paragraph where the undone blocks began: y-prosemirror's mapping.)
  await expect.poll(() => bob.editor.textsIn(tasks)).toEqual(['Write it', 'Ship it'])
  await expect.poll(() => bob.editor.textsIn('h1')).toEqual(['Plan'])

  // Bob ticks the first task; Alice sees it ticked.
  await seen.locator('ul[data-type="taskList"] > li').first().getByRole('checkbox').check()
  await expect(editor.content.locator('ul[data-type="taskList"] > li').first()).toHaveAttribute(
    'data-checked',
    'true',
  )
})

test('[R59] toggles show what the selection has: aria-pressed follows the caret', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  const { editor } = alice

  await editor.type('plain ')
  await alice.page.keyboard.press('ControlOrMeta+b')
  await editor.type('bold')
  await expect(editor.formatButton('Bold')).toHaveAttribute('aria-pressed', 'true')
  await expect(editor.formatButton('Italic')).toHaveAttribute('aria-pressed', 'false')

  await alice.page.keyboard.press('Home')
  await alice.page.keyboard.press('ArrowRight')
  await expect(editor.formatButton('Bold')).toHaveAttribute('aria-pressed', 'false')
  await expect(editor.formatButton('Heading 2')).toHaveAttribute('aria-pressed', 'false')

  await alice.page.keyboard.press('ControlOrMeta+Alt+2')
  await expect(editor.formatButton('Heading 2')).toHaveAttribute('aria-pressed', 'true')
  await expect(editor.formatButton('Heading 1')).toHaveAttribute('aria-pressed', 'false')

  // Selected text gets the bubble menu, whose toggles say the same.
  await editor.selectBlock(0)
  await expect(editor.selectionMenu).toBeVisible()
  await editor.selectionMenu.getByRole('button', { name: 'Italic' }).click()
  await expect(editor.selectionMenu.getByRole('button', { name: 'Italic' })).toHaveAttribute(
    'aria-pressed',
    'true',
  )
  await expect(editor.formatButton('Italic')).toHaveAttribute('aria-pressed', 'true')
  await expect(editor.content.locator('h2 em')).toHaveCount(2)
})

test('[R59] Ctrl+K links the selection: a bare address becomes https, javascript: is refused, a second editor sees the link', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await Promise.all([alice.open(doc.editUrl), bob.open(doc.editUrl)])
  const { editor } = alice

  await editor.type('Tandem docs')
  await editor.selectBlock(0)

  await editor.linkSelection('javascript:alert(1)')
  await expect(editor.linkEditor.getByRole('alert')).toContainText('only go to web pages')
  await expect(editor.linkEditor.getByLabel('Link', { exact: true })).toHaveAttribute('aria-invalid', 'true')
  await editor.linkEditor.getByLabel('Link', { exact: true }).fill('example.com/docs')
  await editor.linkEditor.getByLabel('Link', { exact: true }).press('Enter')
  await expect(editor.linkEditor).toBeHidden()
  await expect(editor.content).toBeFocused()

  const bobsLink = bob.editor.content.locator('a')
  await expect.poll(() => bob.editor.textsIn('a')).toEqual(['Tandem docs'])
  await expect(bobsLink).toHaveAttribute('href', 'https://example.com/docs')
  await expect(bobsLink).toHaveAttribute('rel', /noopener/)

  // The caret in the link: Ctrl+K edits it, offers to open it in a new tab, and removes it.
  await editor.placeCaretAtEndOfBlock(0)
  await alice.page.keyboard.press('ArrowLeft')
  await alice.page.keyboard.press('ControlOrMeta+k')
  await expect(editor.linkEditor.getByRole('heading')).toHaveText('Edit link')
  await expect(editor.linkEditor.getByLabel('Link', { exact: true })).toHaveValue('https://example.com/docs')
  const open = editor.linkEditor.getByRole('link', { name: 'Open link' })
  await expect(open).toHaveAttribute('target', '_blank')
  await expect(open).toHaveAttribute('rel', 'noopener noreferrer')
  await editor.linkEditor.getByRole('button', { name: 'Remove link' }).click()
  await expect(bobsLink).toHaveCount(0)
  await expect.poll(() => bob.editor.text()).toBe('Tandem docs')
})

test('[R59] a typed javascript: or data: address never becomes a link', async ({ createDoc, newActor }) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  // Autolink links what it recognises as you type; these it must not.
  await alice.editor.type('javascript:alert(1) data:text/html,x https://ok.example ')
  await expect(alice.editor.content.locator('a')).toHaveCount(1)
  await expect(alice.editor.content.locator('a')).toHaveAttribute('href', 'https://ok.example')
})

test('[R59] a table and an image by address reach a second editor', async ({
  createDoc,
  newActor,
  server,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await Promise.all([alice.open(doc.editUrl), bob.open(doc.editUrl)])
  const { editor } = alice

  await editor.formatButton('Insert table').click()
  await editor.type('Name')
  await alice.page.keyboard.press('Tab')
  await editor.type('Role')
  await expect(editor.tableMenu).toBeVisible()
  await editor.tableMenu.getByRole('button', { name: 'Add row below' }).click()
  await editor.tableMenu.getByRole('button', { name: 'Delete column' }).click()

  const bobsTable = bob.editor.content.locator('table')
  // The caret was in "Role": its column went; the third, empty one stays.
  await expect.poll(() => bob.editor.textsIn('table th')).toEqual(['Name', ''])
  await expect(bobsTable.locator('tr')).toHaveCount(4)
  await expect(bobsTable.locator('tr').first().locator('th, td')).toHaveCount(2)

  // Out of the table (the table menu goes), then an image: only a web address is taken.
  await alice.page.keyboard.press('ControlOrMeta+End')
  await expect(editor.tableMenu).toBeHidden()
  await editor.insertImage('data:image/png;base64,AAAA', 'nothing')
  await expect(editor.imageDialog.getByRole('alert')).toContainText('web addresses')
  await editor.imageDialog.getByRole('button', { name: 'Cancel' }).click()
  await expect(editor.imageDialog).toBeHidden()

  const address = `${server.url}/favicon.svg`
  await editor.insertImage(address, 'The Tandem logo')
  const bobsImage = bob.editor.content.locator('img')
  await expect(bobsImage).toHaveAttribute('src', address)
  await expect(bobsImage).toHaveAttribute('alt', 'The Tandem logo')
})

test('[R59] Ctrl+/ opens the shortcut sheet; Escape closes it and the caret is back in the text', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  const { editor, page } = alice

  await editor.type('one')
  await page.keyboard.press('ControlOrMeta+/')
  await expect(editor.shortcutSheet).toBeVisible()
  await expect(editor.shortcutSheet.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible()
  await expect(editor.shortcutSheet.locator('[data-shortcut="bold"]')).toContainText(/Ctrl\+B|⌘B/)
  await expect(editor.shortcutSheet.locator('[data-shortcut="link"]')).toContainText(/Ctrl\+K|⌘K/)
  await page.keyboard.press('Escape')
  await expect(editor.shortcutSheet).toBeHidden()
  await expect(editor.content).toBeFocused()
  await editor.type(' two')
  await expect.poll(() => editor.text()).toBe('one two')

  // The toolbar's button opens it too, and focus goes back to that button; each button names
  // its shortcut in its tooltip.
  await expect(editor.formatButton('Bold')).toHaveAttribute('title', /Bold \((Ctrl\+B|⌘B)\)/)
  await editor.formatButton('Keyboard shortcuts').click()
  await expect(editor.shortcutSheet).toBeVisible()
  await editor.shortcutSheet.getByRole('button', { name: 'Close' }).click()
  await expect(editor.shortcutSheet).toBeHidden()
})

test('[R59] the toolbar is one Tab stop whose buttons the arrow keys move between', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  const { editor, page } = alice

  // Alt+F10 goes from the text to the toolbar, as in Google Docs.
  await page.keyboard.press('Alt+F10')
  await expect(editor.formatButton('Bold')).toBeFocused()
  await page.keyboard.press('ArrowRight')
  await expect(editor.formatButton('Italic')).toBeFocused()
  await page.keyboard.press('End')
  await expect(editor.formatButton('Keyboard shortcuts')).toBeFocused()
  await expect(editor.formatToolbar.locator('button[tabindex="0"]')).toHaveCount(1)
})

test('[R59] a viewer gets the text without a toolbar, a selection menu or a placeholder', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const viewer = await newActor('Vera')
  await alice.open(doc.editUrl)
  await alice.editor.formatButton('Heading 1').click()
  await alice.editor.type('Read me')
  await viewer.view(doc.viewUrl)

  await expect.poll(() => viewer.viewer.textsIn('h1')).toEqual(['Read me'])
  await expect(viewer.viewer.formatToolbar).toHaveCount(0)
  await viewer.viewer.content.locator('h1').selectText()
  await expect(viewer.page.getByRole('toolbar')).toHaveCount(0)
  await expect(viewer.viewer.content.locator('[data-placeholder]')).toHaveCount(0)
})
