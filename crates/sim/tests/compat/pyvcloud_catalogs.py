"""pyvcloud 23.0.4 against the simulator: Org.create_catalog, get_catalog, update_catalog,
share_catalog, upload_media, upload_ovf (an OVA made here with tarfile), list_catalog_items,
get_catalog_item, download_catalog_item (media and template), delete_catalog_item,
delete_catalog, at API 32 and 36. Prints one RESULT line of JSON for the Rust test to check."""
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile
import time

import urllib3
from pyvcloud.vcd.client import BasicLoginCredentials, Client
from pyvcloud.vcd.exceptions import EntityNotFoundException
from pyvcloud.vcd.org import Org

urllib3.disable_warnings()
SIM = os.environ["SIM_BASE"].rstrip("/")
TMP = os.environ.get("SIM_TMP", tempfile.gettempdir())
CHUNK = 64 * 1024

OVF = """<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="py-disk1.vmdk" ovf:id="file1" ovf:size="{size}"/></References>
  <DiskSection><Info>Virtual disks</Info><Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="2" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection>
  <NetworkSection><Info>Networks</Info><Network ovf:name="py-net"><Description/></Network></NetworkSection>
  <VirtualSystem ovf:id="py-vm"><Info>VM</Info><Name>py-vm</Name>
    <VirtualHardwareSection><Info>Hardware</Info>
      <Item><rasd:ElementName>1 CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>512 MB</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"""


def wait_ready(client, href, status):
    for _ in range(200):
        res = client.get_resource(href)
        if res.get("status") == status:
            return res
        time.sleep(0.05)
    raise RuntimeError("not ready: " + href)


def run(version):
    """One pass of every call at this API version; returns what it saw."""
    out = {}
    new_name = "py-cat-" + version
    cat_name = "py-catalog-" + version
    work = tempfile.mkdtemp(dir=TMP)
    os.chdir(work)  # pyvcloud extracts OVAs and stages downloads in the working directory
    c = Client(SIM, api_version=version, verify_ssl_certs=False,
               log_file=os.path.join(TMP, "pyvcloud-catalogs.log"))
    c.set_credentials(BasicLoginCredentials("admin", "nebulair", "nebulair"))
    org = Org(c, resource=c.get_org())

    created = org.create_catalog(new_name, "from pyvcloud")
    out["created"] = {"name": created.get("name"), "description": str(created.Description)}
    org.reload()
    org.update_catalog(new_name, cat_name, "changed by pyvcloud")
    org.reload()
    cat = org.get_catalog(cat_name)
    out["updated"] = {"name": cat.get("name"), "description": str(cat.Description)}
    org.share_catalog(cat_name, share=True)
    out["published"] = str(org.get_catalog(cat_name).IsPublished)

    iso = os.path.join(work, "py.iso")
    iso_bytes = bytes((i * 7) % 251 for i in range(200 * 1024 + 11))
    with open(iso, "wb") as f:
        f.write(iso_bytes)
    progress = []
    sent = org.upload_media(cat_name, iso, item_name="py.iso", description="an iso",
                            chunk_size=CHUNK, callback=lambda done, total: progress.append(done))
    out["media_bytes"] = sent
    out["media_callbacks"] = len(progress)

    disk = bytes((i * 13) % 253 for i in range(300 * 1024))
    ova = os.path.join(work, "py.ova")
    with tarfile.open(ova, "w") as t:
        for name, data in (("py.ovf", OVF.format(size=len(disk)).encode()),
                           ("py-disk1.vmdk", disk)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    out["ovf_bytes"] = org.upload_ovf(cat_name, ova, item_name="py-tpl", chunk_size=CHUNK)

    items = org.list_catalog_items(cat_name)
    out["items"] = sorted(i["name"] for i in items)
    out["item_ids"] = all(i["id"] for i in items)

    media_item = org.get_catalog_item(cat_name, "py.iso")
    media = wait_ready(c, media_item.Entity.get("href"), "1")
    out["media"] = {"size": media.get("size"), "imageType": media.get("imageType"),
                    "type": media_item.Entity.get("type")}
    tpl_item = org.get_catalog_item(cat_name, "py-tpl")
    tpl = wait_ready(c, tpl_item.Entity.get("href"), "8")
    vm = tpl.Children.Vm
    out["template"] = {"vm": vm.get("name"), "ovfDescriptorUploaded": tpl.get("ovfDescriptorUploaded")}

    got = org.download_catalog_item(cat_name, "py.iso", os.path.join(work, "back.iso"),
                                    chunk_size=CHUNK)
    with open(os.path.join(work, "back.iso"), "rb") as f:
        out["media_download"] = {"bytes": got,
                                 "same": hashlib.sha256(f.read()).hexdigest()
                                 == hashlib.sha256(iso_bytes).hexdigest()}
    org.download_catalog_item(cat_name, "py-tpl", os.path.join(work, "back.ova"),
                              chunk_size=CHUNK)
    with tarfile.open(os.path.join(work, "back.ova")) as t:
        names = sorted(t.getnames())
        data = t.extractfile("py-disk1.vmdk").read()
    out["ova_download"] = {"names": names, "same_disk": data == disk}

    org.delete_catalog_item(cat_name, "py.iso")
    org.delete_catalog_item(cat_name, "py-tpl")
    out["after_delete"] = org.list_catalog_items(cat_name)
    org.delete_catalog(cat_name)
    org.reload()
    try:
        org.get_catalog(cat_name)
        out["gone"] = False
    except EntityNotFoundException:
        out["gone"] = True
    c.logout()
    return out


results = {v: run(v) for v in ("32.0", "36.0")}
sys.stdout.write("RESULT " + json.dumps(results, sort_keys=True) + "\n")
