"""Attachments (supporting documents): folders, then documents of base64 files that bills, journals, expense
reports and card transactions reference by `SUPDOCID`."""

import base64
import binascii
from xml.etree.ElementTree import Element

from sandbox.intacct.context import Context, Outcome
from sandbox.intacct.errors import IntacctError, business, duplicate, missing_field
from sandbox.intacct.store import Attachment, SupportingDocument
from sandbox.intacct.values import format_timestamp


def create_folder(ctx: Context, element: Element) -> Outcome:
    name = (element.findtext("supdocfoldername") or "").strip()
    if not name:
        raise IntacctError(missing_field("supdocfoldername", "attachment folder"))
    if name in ctx.store.folders:
        raise IntacctError(duplicate("Attachment Folder", name))
    ctx.store.folders.add(name)
    return Outcome(key=name)


def create_supdoc(ctx: Context, element: Element) -> Outcome:
    supdocid = (element.findtext("supdocid") or "").strip()
    folder = (element.findtext("supdocfoldername") or "").strip()
    errors = []
    if not supdocid:
        errors.append(missing_field("supdocid", "attachment"))
    elif supdocid in ctx.store.supdocs:
        errors.append(duplicate("Attachment", supdocid))
    if folder not in ctx.store.folders:
        errors.append(business(f"Attachment folder '{folder}' does not exist.", "Create the folder first."))
    files = []
    for attachment in element.findall("attachments/attachment"):
        name = (attachment.findtext("attachmentname") or "").strip()
        try:
            content = base64.b64decode(attachment.findtext("attachmentdata") or "", validate=True)
        except (binascii.Error, ValueError):
            errors.append(business(f"The attachment '{name}' is not valid base64 data."))
            continue
        files.append(Attachment(name, (attachment.findtext("attachmenttype") or "").strip(), len(content)))
    if not files and not errors:
        errors.append(missing_field("attachments", "attachment"))
    if errors:
        raise IntacctError(*errors)
    ctx.store.supdocs[supdocid] = SupportingDocument(
        supdocid,
        folder,
        (element.findtext("description") or "").strip(),
        tuple(files),
        format_timestamp(ctx.clock.now()),
    )
    return Outcome(key=supdocid)
