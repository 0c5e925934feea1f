//! Decoding query result pages: one page of 128 `VMRecord`s (the page size the client
//! asks for) into generic records, typed records and vcloudair's result map.
//!
//! Run: `cargo bench -p nebulair-vcloud --bench query_decode`.

use divan::Bencher;
use nebulair_vcloud::query::{QueryPage, TypedRecord, VmRecord};

fn main() {
    divan::main();
}

fn page(records: usize) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5" name="vm" page="1" pageSize="128" total="1000" type="application/vnd.vmware.vcloud.query.records+xml"><Link rel="nextPage" href="https://vcd.example.test/api/query?type=vm&amp;page=2&amp;pageSize=128&amp;format=records"/>"#,
    );
    for i in 0..records {
        s.push_str(&format!(
            r#"<VMRecord container="https://vcd.example.test/api/vApp/vapp-11111111-1111-4111-8111-{i:012}" containerName="vapp-{i}" guestOs="CentOS 7 (64-bit)" hardwareVersion="14" isBusy="false" isDeleted="false" isDeployed="true" isInMaintenanceMode="false" isPublished="false" isVAppTemplate="false" memoryMB="4096" name="vm-{i}" numberOfCpus="2" status="POWERED_ON" storageProfileName="Standard" vdc="https://vcd.example.test/api/vdc/55555555-5555-4555-8555-555555555555" href="https://vcd.example.test/api/vApp/vm-66666666-6666-4666-8666-{i:012}" isVdcEnabled="true" taskStatus="success"/>"#
        ));
    }
    s.push_str("</QueryResultRecords>");
    s
}

#[divan::bench(args = [128])]
fn decode_page(bencher: Bencher<'_, '_>, n: usize) {
    let text = page(n);
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| QueryPage::from_xml(divan::black_box(&text)).expect("page"));
}

#[divan::bench(args = [128])]
fn decode_page_typed(bencher: Bencher<'_, '_>, n: usize) {
    let text = page(n);
    bencher.bench(|| {
        let page = QueryPage::from_xml(divan::black_box(&text)).expect("page");
        page.records
            .iter()
            .map(VmRecord::from_record)
            .collect::<Result<Vec<_>, _>>()
            .expect("typed")
    });
}
