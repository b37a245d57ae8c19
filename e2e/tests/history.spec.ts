import { expect, test } from '../support/fixtures.ts'
import AxeBuilder from '@axe-core/playwright'
import { HistoryPanel } from '../support/HistoryPanel.ts'

test('[R62] a named version, viewed read-only and restored: the other editor and a viewer see the restore, and restoring "Before restore" undoes it', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const ada = await newActor('Ada')
  const bob = await newActor('Bob')
  const vic = await newActor('Vic')
  await Promise.all([ada.open(doc.editUrl), bob.open(doc.editUrl), vic.view(doc.viewUrl)])

  await ada.editor.placeCaretAtEnd()
  await ada.editor.type('First draft')
  await expect.poll(() => bob.editor.text()).toBe('First draft')
  await ada.editor.waitSaved()
  const history = new HistoryPanel(ada.page)
  await history.open()
  await history.saveVersion('Draft one')
  await history.close()

  await ada.editor.placeCaretAtEnd()
  await ada.page.keyboard.press('Enter')
  await ada.editor.type('Second thoughts')
  const newer = 'First draft\nSecond thoughts'
  await expect.poll(() => vic.viewer.text()).toBe(newer)
  await ada.editor.waitSaved()

  // The version opens beside the current text, read-only, as the editor draws it.
  await history.open()
  await history.openVersion('Named: Draft one')
  await expect(history.versionDocument.locator('.ProseMirror')).toHaveAttribute('contenteditable', 'false')
  await expect(history.versionDocument.locator('p', { hasText: 'First draft' })).toBeVisible()
  await expect(history.versionDocument).not.toContainText('Second thoughts')
  await history.restore()

  for (const surface of [ada.editor, bob.editor, vic.viewer])
    await expect.poll(() => surface.text()).toBe('First draft')
  await expect(history.items.first()).toContainText('Before restore')

  // Undo: the state before the restore was kept; restoring it brings the newer text back.
  await history.openVersion('Before restore')
  await expect(history.versionDocument).toContainText('Second thoughts')
  await history.restore()
  for (const surface of [ada.editor, bob.editor, vic.viewer])
    await expect.poll(() => surface.text()).toBe(newer)
})

test('[R62] the save dialog asks for a name, closes on Escape and gives focus back', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const ada = await newActor('Ada')
  await ada.open(doc.editUrl)
  const history = new HistoryPanel(ada.page)
  await history.open()
  await expect(history.panel).toContainText('No versions yet')
  const saveButton = history.panel.getByRole('button', { name: 'Save version…' })
  await saveButton.click()
  const dialog = ada.page.getByTestId('save-version-dialog')
  await dialog.getByRole('button', { name: 'Save version' }).click()
  await expect(dialog.getByRole('alert')).toHaveText('Give the version a name.')
  await ada.page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await expect(saveButton).toBeFocused()
  await expect(history.items).toHaveCount(0)
})

test('[R62][R63] the history panel, a version and both dialogs have no serious or critical accessibility violations, light and dark', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const ada = await newActor('Ada')
  await ada.open(doc.editUrl)
  await ada.editor.placeCaretAtEnd()
  await ada.editor.type('Accessible history')
  await ada.editor.waitSaved()
  const history = new HistoryPanel(ada.page)
  const check = async (selector: string): Promise<void> => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await ada.page.emulateMedia({ colorScheme })
      const { violations } = await new AxeBuilder({ page: ada.page }).include(selector).analyze()
      const serious = violations.filter((violation) =>
        ['serious', 'critical'].includes(violation.impact ?? ''),
      )
      expect(serious.map((violation) => `${colorScheme} ${selector}: ${violation.id}`)).toEqual([])
    }
  }
  await history.open()
  await history.panel.getByRole('button', { name: 'Save version…' }).click()
  await check('[data-testid="save-version-dialog"]')
  await ada.page.getByTestId('save-version-dialog').getByLabel('Version name').fill('Checked')
  await ada.page.getByTestId('save-version-dialog').getByRole('button', { name: 'Save version' }).click()
  await expect(history.items).toHaveCount(1)
  await check('[data-testid="history-panel"]')
  await history.openVersion('Named: Checked')
  await check('[data-testid="history-panel"]')
  await history.panel.getByRole('button', { name: 'Restore this version' }).click()
  await check('[data-testid="restore-version-dialog"]')
})
